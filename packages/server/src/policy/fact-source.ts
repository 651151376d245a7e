import { X509Certificate, type KeyObject } from 'node:crypto';
import { type Clock, systemClock } from '@medtrust/core';
import type { Kysely } from 'kysely';
import type { Database } from '../db/index.ts';
import type { Device, DeviceTable } from '../devices/index.ts';
import type { CertificateStore } from '../pki/index.ts';
import type { Facts } from './facts.ts';

const DAY_MS = 86_400_000;

type DeviceRow = DeviceTable;

/** Which devices a policy reaches: the operator's every device, a hospital's or a site's own. */
export type PolicyReach = { readonly kind: 'all' } | { readonly kind: 'tenant'; readonly tenantId: string } | { readonly kind: 'site'; readonly siteId: string };

/** Extra facts a hook knows at the moment it asks (the connecting address, the CSR's key). */
export type HookFacts = Readonly<Record<string, string | number | boolean | undefined>>;

/** Where facts come from; the engine asks only for the fact groups its conditions name. */
export interface FactSource {
  reachOf(policyTenantId: string): Promise<PolicyReach>;
  /** Devices in reach, in pages ordered by id. */
  devices(reach: PolicyReach, afterId: string | undefined, limit: number): Promise<Device[]>;
  device(deviceId: string): Promise<Device | undefined>;
  facts(device: Device, groups: ReadonlySet<string>): Promise<Facts>;
}

/** Facts from the registry, vulnerability matches, the certificate store and connection history. */
export class DbFactSource implements FactSource {
  readonly #db: Kysely<Database>;
  readonly #certificates: CertificateStore;
  readonly #clock: Clock;

  constructor(opts: { db: Kysely<Database>; certificates: CertificateStore; clock?: Clock }) {
    this.#db = opts.db;
    this.#certificates = opts.certificates;
    this.#clock = opts.clock ?? systemClock;
  }

  async reachOf(policyTenantId: string): Promise<PolicyReach> {
    const t = await this.#db.selectFrom('tenant').select(['kind']).where('id', '=', policyTenantId).executeTakeFirst();
    // A policy of a tenant that no longer exists reaches nothing rather than everything.
    if (!t) return { kind: 'tenant', tenantId: policyTenantId };
    switch (t.kind) {
      case 'operator':
        return { kind: 'all' };
      case 'customer':
        return { kind: 'tenant', tenantId: policyTenantId };
      case 'site':
        return { kind: 'site', siteId: policyTenantId };
      default:
        return t.kind satisfies never;
    }
  }

  async devices(reach: PolicyReach, afterId: string | undefined, limit: number): Promise<Device[]> {
    let q = this.#db.selectFrom('device').selectAll().orderBy('id').limit(limit);
    if (reach.kind === 'tenant') q = q.where('tenant_id', '=', reach.tenantId);
    if (reach.kind === 'site') q = q.where('site_id', '=', reach.siteId);
    if (afterId !== undefined) q = q.where('id', '>', afterId);
    return (await q.execute()).map(toDevice);
  }

  async device(deviceId: string): Promise<Device | undefined> {
    const r = await this.#db.selectFrom('device').selectAll().where('id', '=', deviceId).executeTakeFirst();
    return r ? toDevice(r) : undefined;
  }

  async facts(d: Device, groups: ReadonlySet<string>): Promise<Facts> {
    const f: Record<string, string | number | boolean | undefined> = {
      'device.id': d.id, 'device.serial': d.serial, 'device.model': d.model, 'device.hardwareRevision': d.hardwareRevision,
      'device.state': d.state, 'device.firmwareVersion': d.firmwareVersion ?? undefined, 'device.tenantId': d.tenantId, 'device.siteId': d.siteId ?? undefined,
    };
    const now = this.#clock.nowMs();
    if (groups.has('vulns') && d.firmwareVersion !== null) Object.assign(f, await this.#vulnFacts(d.model, d.firmwareVersion, now));
    if (groups.has('vulns') && d.firmwareVersion === null) Object.assign(f, { 'vulns.affectedCount': 0, 'vulns.kevCount': 0 });
    if (groups.has('cert')) {
      const c = await this.#certificates.currentForDevice(d.id, 'ldevid');
      if (c) Object.assign(f, { 'cert.daysToExpiry': Math.floor((Number(c.not_after) - now) / DAY_MS), ...keyFacts(new X509Certificate(c.der).publicKey) });
    }
    if (groups.has('connection')) {
      const c = await this.#db.selectFrom('device_connection').select(['remote_address', 'transport']).where('device_id', '=', d.id).orderBy('connected_at', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst();
      if (c) Object.assign(f, { 'connection.remoteAddress': c.remote_address ?? undefined, 'connection.transport': c.transport });
    }
    return f;
  }

  async #vulnFacts(model: string, firmwareVersion: string, now: number): Promise<Facts> {
    // Read-only use of the vulnerability matches: the policy needs when a KEV-listed match began,
    // which VulnService does not expose. Unpatched = still matched on the installed firmware.
    const rows = await this.#db.selectFrom('vuln_match as m').leftJoin('vuln_kev as k', 'k.cve_id', 'm.vuln_id')
      .select(['m.vuln_id', 'm.matched_at', 'k.date_added']).where('m.model', '=', model).where('m.firmware_version', '=', firmwareVersion).where('m.status', '=', 'affected').execute();
    const since = new Map<string, number | null>();
    for (const r of rows) {
      const kevAt = r.date_added ? Date.parse(`${r.date_added}T00:00:00Z`) : NaN;
      const start = Number.isNaN(kevAt) ? null : Math.max(kevAt, Number(r.matched_at));
      const prev = since.get(r.vuln_id);
      since.set(r.vuln_id, prev === undefined || prev === null ? start : start === null ? prev : Math.min(prev, start));
    }
    const kev = [...since.values()].filter((s): s is number => s !== null);
    return {
      'vulns.affectedCount': since.size,
      'vulns.kevCount': kev.length,
      'vulns.kevMaxDaysUnpatched': kev.length === 0 ? undefined : Math.floor((now - Math.min(...kev)) / DAY_MS),
    };
  }
}

/** Key facts of a public key: type and RSA size (the issuance hook passes the CSR's the same way). */
export function keyFacts(key: KeyObject): Facts {
  const d = key.asymmetricKeyDetails;
  switch (key.asymmetricKeyType) {
    case 'rsa':
    case 'rsa-pss':
      return { 'cert.keyType': 'rsa', 'cert.rsaBits': d?.modulusLength };
    case 'ec':
      return { 'cert.keyType': d?.namedCurve === 'secp384r1' ? 'ec-p384' : d?.namedCurve === 'prime256v1' ? 'ec-p256' : `ec-${d?.namedCurve ?? 'unknown'}` };
    case 'ed25519':
      return { 'cert.keyType': 'ed25519' };
    default:
      return { 'cert.keyType': key.asymmetricKeyType ?? 'unknown' };
  }
}

function toDevice(r: DeviceRow): Device {
  return {
    id: r.id, serial: r.serial, model: r.model, hardwareRevision: r.hardware_revision, tenantId: r.tenant_id, siteId: r.site_id,
    state: r.state, firmwareVersion: r.firmware_version, batchId: r.batch_id, createdAt: Number(r.created_at), updatedAt: Number(r.updated_at),
  };
}
