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
  /** The same facts for many devices at once; one loader per fleet run (it caches per firmware). */
  loader(groups: ReadonlySet<string>): FactLoader;
}

/** Batched facts: a few set-based queries per page of devices instead of a few per device. */
export interface FactLoader {
  /** Facts of each given device by id, equal to what `FactSource.facts` gives for it. */
  factsOf(devices: readonly Device[]): Promise<Map<string, Facts>>;
}

/** The KEV-relevant view of one firmware's affected matches; facts follow from it and the time. */
interface VulnSummary {
  readonly affectedCount: number;
  /** Per KEV-listed vulnerability, when it became open on this firmware. */
  readonly kevSince: readonly number[];
}

/** Bind parameters per IN list: far under SQLite's and PostgreSQL's limits. */
const CHUNK = 500;

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
    const f = deviceFacts(d);
    const now = this.#clock.nowMs();
    if (groups.has('vulns')) Object.assign(f, d.firmwareVersion === null ? NO_FIRMWARE_VULNS : vulnFacts(await this.#vulnSummary(d.model, d.firmwareVersion), now));
    if (groups.has('cert')) {
      const c = await this.#certificates.currentForDevice(d.id, 'ldevid');
      if (c) Object.assign(f, certFacts(c, now));
    }
    if (groups.has('connection')) {
      const c = await this.#db.selectFrom('device_connection').select(['remote_address', 'transport']).where('device_id', '=', d.id).orderBy('connected_at', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst();
      if (c) Object.assign(f, connectionFacts(c));
    }
    return f;
  }

  loader(groups: ReadonlySet<string>): FactLoader {
    // Vulnerability facts depend on (model, firmware) only: computed once per firmware per run.
    const vulns = new Map<string, VulnSummary>();
    return { factsOf: (devices) => this.#factsOf(devices, groups, vulns) };
  }

  async #factsOf(devices: readonly Device[], groups: ReadonlySet<string>, vulns: Map<string, VulnSummary>): Promise<Map<string, Facts>> {
    const out = new Map<string, MutableFacts>(devices.map((d) => [d.id, deviceFacts(d)]));
    const now = this.#clock.nowMs();
    if (groups.has('vulns')) {
      const missing = new Map<string, [string, string]>();
      for (const d of devices) if (d.firmwareVersion !== null && !vulns.has(firmwareKey(d.model, d.firmwareVersion))) missing.set(firmwareKey(d.model, d.firmwareVersion), [d.model, d.firmwareVersion]);
      const found = await this.#vulnSummaries([...missing.values()]);
      for (const k of missing.keys()) vulns.set(k, found.get(k) ?? NO_VULNS);
      for (const d of devices) Object.assign(out.get(d.id) as MutableFacts, d.firmwareVersion === null ? NO_FIRMWARE_VULNS : vulnFacts(vulns.get(firmwareKey(d.model, d.firmwareVersion)), now));
    }
    const ids = devices.map((d) => d.id);
    if (groups.has('cert')) {
      for (let i = 0; i < ids.length; i += CHUNK) {
        // Same order as currentForDevice, so the first row per device is the one it would return.
        const rows = await this.#db.selectFrom('certificate').select(['device_id', 'not_after', 'der'])
          .where('device_id', 'in', ids.slice(i, i + CHUNK)).where('profile', '=', 'ldevid').where('status', '=', 'valid')
          .orderBy('device_id').orderBy('created_at', 'desc').orderBy('not_before', 'desc').execute();
        const seen = new Set<string>();
        for (const r of rows) {
          if (r.device_id === null || seen.has(r.device_id)) continue;
          seen.add(r.device_id);
          Object.assign(out.get(r.device_id) as MutableFacts, certFacts(r, now));
        }
      }
    }
    if (groups.has('connection')) {
      for (let i = 0; i < ids.length; i += CHUNK) {
        const rows = await this.#db.selectFrom('device_connection as c').select(['c.device_id', 'c.remote_address', 'c.transport'])
          .where('c.device_id', 'in', ids.slice(i, i + CHUNK))
          .where((eb) => eb('c.id', '=', eb.selectFrom('device_connection as l').select('l.id').whereRef('l.device_id', '=', 'c.device_id').orderBy('l.connected_at', 'desc').orderBy('l.id', 'desc').limit(1)))
          .execute();
        for (const r of rows) Object.assign(out.get(r.device_id) as MutableFacts, connectionFacts(r));
      }
    }
    return out;
  }

  async #vulnSummary(model: string, firmwareVersion: string): Promise<VulnSummary> {
    // Read-only use of the vulnerability matches: the policy needs when a KEV-listed match began,
    // which VulnService does not expose. Unpatched = still matched on the installed firmware.
    const rows = await this.#db.selectFrom('vuln_match as m').leftJoin('vuln_kev as k', 'k.cve_id', 'm.vuln_id')
      .select(['m.vuln_id', 'm.matched_at', 'k.date_added']).where('m.model', '=', model).where('m.firmware_version', '=', firmwareVersion).where('m.status', '=', 'affected').execute();
    return summarise(rows);
  }

  /** Affected-match summaries of the given firmwares, keyed by firmwareKey; absent when none. */
  async #vulnSummaries(firmwares: ReadonlyArray<readonly [string, string]>): Promise<Map<string, VulnSummary>> {
    const out = new Map<string, VulnSummary>();
    for (let i = 0; i < firmwares.length; i += CHUNK / 2) {
      const part = firmwares.slice(i, i + CHUNK / 2);
      const rows = await this.#db.selectFrom('vuln_match as m').leftJoin('vuln_kev as k', 'k.cve_id', 'm.vuln_id')
        .select(['m.model', 'm.firmware_version', 'm.vuln_id', 'm.matched_at', 'k.date_added']).where('m.status', '=', 'affected')
        .where((eb) => eb.or(part.map(([model, fw]) => eb.and([eb('m.model', '=', model), eb('m.firmware_version', '=', fw)]))))
        .execute();
      const byFirmware = new Map<string, typeof rows>();
      for (const r of rows) {
        const k = firmwareKey(r.model, r.firmware_version);
        const list = byFirmware.get(k);
        if (list) list.push(r);
        else byFirmware.set(k, [r]);
      }
      for (const [k, rs] of byFirmware) out.set(k, summarise(rs));
    }
    return out;
  }
}

const NO_FIRMWARE_VULNS: Facts = { 'vulns.affectedCount': 0, 'vulns.kevCount': 0 };
const NO_VULNS: VulnSummary = { affectedCount: 0, kevSince: [] };

function firmwareKey(model: string, firmwareVersion: string): string {
  return JSON.stringify([model, firmwareVersion]);
}

type MutableFacts = Record<string, string | number | boolean | undefined>;

function deviceFacts(d: Device): MutableFacts {
  return {
    'device.id': d.id, 'device.serial': d.serial, 'device.model': d.model, 'device.hardwareRevision': d.hardwareRevision,
    'device.state': d.state, 'device.firmwareVersion': d.firmwareVersion ?? undefined, 'device.tenantId': d.tenantId, 'device.siteId': d.siteId ?? undefined,
  };
}

function summarise(rows: ReadonlyArray<{ vuln_id: string; matched_at: number; date_added: string | null }>): VulnSummary {
  const since = new Map<string, number | null>();
  for (const r of rows) {
    const kevAt = r.date_added ? Date.parse(`${r.date_added}T00:00:00Z`) : NaN;
    const start = Number.isNaN(kevAt) ? null : Math.max(kevAt, Number(r.matched_at));
    const prev = since.get(r.vuln_id);
    since.set(r.vuln_id, prev === undefined || prev === null ? start : start === null ? prev : Math.min(prev, start));
  }
  return { affectedCount: since.size, kevSince: [...since.values()].filter((s): s is number => s !== null) };
}

function vulnFacts(v: VulnSummary | undefined, now: number): Facts {
  const kev = v?.kevSince ?? [];
  return {
    'vulns.affectedCount': v?.affectedCount ?? 0,
    'vulns.kevCount': kev.length,
    'vulns.kevMaxDaysUnpatched': kev.length === 0 ? undefined : Math.floor((now - Math.min(...kev)) / DAY_MS),
  };
}

function certFacts(c: { not_after: number; der: Uint8Array }, now: number): Facts {
  return { 'cert.daysToExpiry': Math.floor((Number(c.not_after) - now) / DAY_MS), ...keyFacts(new X509Certificate(Buffer.from(c.der)).publicKey) };
}

function connectionFacts(c: { remote_address: string | null; transport: string }): Facts {
  return { 'connection.remoteAddress': c.remote_address ?? undefined, 'connection.transport': c.transport };
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
