import { createPublicKey, type KeyObject } from 'node:crypto';
import { type Clock, NO_EXPIRY_MS, oid, readElement, systemClock, toPem } from '@medtrust/core';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { AuditEvent, AuditLog } from '../../audit/index.ts';
import type { Database, SqlDialectName } from '../../db/index.ts';
import type { EventBus } from '../../events/index.ts';
import { parseCsr } from '../csr/csr-parser.ts';
import { checkPublicKey } from '../csr/key-policy.ts';
import { PkiError } from '../errors.ts';
import type { CaName, CertificateAuthorities, DeviceIdentityFacts, IssuedCertificate, Issuer } from '../pki-contracts.ts';
import { spkiDer } from '../profiles/algorithms.ts';
import { daysMs, type EndEntityProfile, issuerUrls, modelTypeOid, NOT_BEFORE_SKEW_MS, Validity } from '../profiles/certificate-profiles.ts';
import { encodeName } from '../profiles/names.ts';
import { insertCertificates } from '../store/certificate-store.ts';
import type { CertificateTable } from '../tables.ts';
import type { DeviceDirectory, IssuanceDevice } from './device-directory.ts';
import { EndEntityMinter, type MintedCertificate } from './end-entity-minter.ts';

const PG_ISSUANCE_LOCK = 0x4d54_4953; // 'MTIS': serialises the key-reuse check across nodes
const AUDIT_BULK_CHUNK = 500;

/** One device of a bulk IDevID request: a CSR the device made, or a public key generated for it. */
export interface IdevidBatchItem {
  readonly device: DeviceIdentityFacts;
  readonly csrDer?: Buffer;
  readonly publicKey?: KeyObject;
}

export interface IssuanceServiceOptions {
  readonly db: Kysely<Database>;
  readonly dialect: SqlDialectName;
  readonly cas: CertificateAuthorities & { readonly organization: string };
  readonly devices: DeviceDirectory;
  readonly audit: AuditLog;
  readonly events: EventBus;
  readonly publicUrl: string;
  readonly ldevidValidityDays: number;
  readonly clock?: Clock;
  /**
   * Asked before an LDevID is signed, after the built-in key policy passed; throws (POLICY_DENIED)
   * to refuse. The platform passes the policy engine's `checkIssuance` (docs/policy.md).
   */
  readonly issuanceCheck?: (c: { readonly deviceId: string; readonly publicKey: KeyObject }) => Promise<void>;
}

/**
 * Issues IDevIDs (Manufacturing CA), LDevIDs (Operational CA) and TLS server certificates
 * (infrastructure CA); stores each in `certificate`, audits and announces it.
 */
export class IssuanceService implements Issuer {
  readonly #o: IssuanceServiceOptions;
  readonly #clock: Clock;
  readonly #minters = new Map<string, Promise<EndEntityMinter>>();
  readonly #modelOids = new Map<string, Buffer>();

  constructor(opts: IssuanceServiceOptions) {
    this.#o = opts;
    this.#clock = opts.clock ?? systemClock;
  }

  async issueIdevid(req: { readonly device: DeviceIdentityFacts; readonly csrDer?: Buffer; readonly publicKey?: KeyObject; readonly actor: string }): Promise<IssuedCertificate> {
    const [issued] = await this.issueIdevidBatch({ items: [req], actor: req.actor, announce: true });
    return issued as IssuedCertificate;
  }

  /**
   * The bulk path for factory provisioning: verifies and signs every item, then stores them all
   * in one transaction (all or nothing) and audits each. `announce` also publishes an event per
   * certificate (off by default: births in the factory concern no live listener).
   */
  async issueIdevidBatch(req: { readonly items: readonly IdevidBatchItem[]; readonly actor: string; readonly announce?: boolean; readonly onProgress?: (done: number, total: number) => void }): Promise<IssuedCertificate[]> {
    if (req.items.length === 0) return [];
    const directory = await this.#o.devices.findMany(req.items.map((i) => i.device.id));
    const minter = await this.#minter('idevid', 'manufacturing');
    const manufacturer = this.#o.cas.organization;
    const notBeforeMs = this.#notBefore();
    const minted: Array<{ m: MintedCertificate; device: IssuanceDevice }> = [];
    for (const item of req.items) {
      const device = directory.get(item.device.id);
      if (!device) throw new PkiError('DEVICE_UNKNOWN', 'the device is not in the registry', { details: { deviceId: item.device.id } });
      if (device.state === 'decommissioned') throw new PkiError('DEVICE_STATE_INVALID', 'a decommissioned device gets no certificate', { details: { deviceId: device.id } });
      const spki = this.#requestKey(item);
      // IEEE 802.1AR §8.5: subject with the device serial; notAfter 99991231235959Z (§8.4).
      const subject = encodeName([
        { type: 'O', value: manufacturer },
        { type: 'title', value: device.model },
        { type: 'CN', value: `${device.model} ${device.serial}` },
        { type: 'serialNumber', value: device.serial },
      ]);
      const m = minter.mint({ subject, spkiDer: spki, notBeforeMs, notAfterMs: NO_EXPIRY_MS, altNames: { hardwareModule: { typeOid: this.#modelOid(device.model), serial: device.serial } } });
      minted.push({ m, device });
      if (req.onProgress && minted.length % 100 === 0) req.onProgress(minted.length, req.items.length);
    }
    await this.#store('idevid', 'manufacturing', minted, undefined);
    await this.#auditAndAnnounce('manufacturing', 'idevid', minted, req.actor, req.announce ?? false);
    req.onProgress?.(minted.length, req.items.length);
    return minted.map(({ m }) => this.#result(m, minter));
  }

  async issueLdevid(req: { readonly deviceId: string; readonly csrDer: Buffer; readonly replacesSerial?: string; readonly actor: string }): Promise<IssuedCertificate> {
    const device = await this.#o.devices.find(req.deviceId);
    if (!device) throw new PkiError('DEVICE_UNKNOWN', 'the device is not in the registry', { details: { deviceId: req.deviceId } });
    if (device.state === 'decommissioned' || device.state === 'quarantined') throw new PkiError('DEVICE_STATE_INVALID', `a ${device.state} device gets no operational certificate`, { details: { deviceId: device.id, state: device.state } });
    const csr = parseCsr(req.csrDer);
    if (this.#o.issuanceCheck) await this.#o.issuanceCheck({ deviceId: device.id, publicKey: createPublicKey({ key: csr.spkiDer, format: 'der', type: 'spki' }) });
    const minter = await this.#minter('ldevid', 'operational');
    const notBeforeMs = this.#notBefore();
    const m = minter.mint({ subject: encodeName([{ type: 'CN', value: device.id }]), spkiDer: csr.spkiDer, notBeforeMs, notAfterMs: notBeforeMs + daysMs(this.#o.ldevidValidityDays) });
    await this.#store('ldevid', 'operational', [{ m, device }], req.replacesSerial);
    await this.#auditAndAnnounce('operational', 'ldevid', [{ m, device }], req.actor, true, req.replacesSerial);
    return this.#result(m, minter);
  }

  async issueTlsServer(req: { readonly hostnames: readonly string[]; readonly ipAddresses: readonly string[]; readonly publicKey: KeyObject }): Promise<IssuedCertificate> {
    const spki = spkiDer(req.publicKey);
    const key = checkPublicKey(spki, readElement(spki, 0));
    const ca = await this.#o.cas.get('infrastructure');
    // Not cached: rare, and the keyUsage depends on the key type.
    const minter = new EndEntityMinter({ ca, profile: 'tls-server', urls: issuerUrls(this.#o.publicUrl, 'infrastructure'), rsaKey: key.type === 'rsa' });
    const notBeforeMs = this.#notBefore();
    const cn = req.hostnames[0] ?? req.ipAddresses[0];
    if (!cn) throw new PkiError('CSR_INVALID', 'a TLS server certificate needs at least one host name or IP address');
    let m: MintedCertificate;
    try {
      m = minter.mint({ subject: encodeName([{ type: 'O', value: this.#o.cas.organization }, { type: 'CN', value: cn }]), spkiDer: spki, notBeforeMs, notAfterMs: notBeforeMs + daysMs(Validity.tlsServerDays), altNames: { dnsNames: req.hostnames, ipAddresses: req.ipAddresses } });
    } catch (e) {
      throw new PkiError('CSR_INVALID', 'invalid host name or IP address', { cause: e });
    }
    await this.#store('tls-server', 'infrastructure', [{ m, device: undefined }], undefined);
    await this.#auditAndAnnounce('infrastructure', 'tls-server', [{ m, device: undefined }], 'system', true);
    return this.#result(m, minter);
  }

  #requestKey(item: IdevidBatchItem): Buffer {
    if (item.csrDer) return parseCsr(item.csrDer).spkiDer;
    if (!item.publicKey) throw new PkiError('CSR_INVALID', 'an IDevID request needs a CSR or a public key');
    const spki = spkiDer(item.publicKey);
    checkPublicKey(spki, readElement(spki, 0));
    return spki;
  }

  #notBefore(): number {
    return Math.floor((this.#clock.nowMs() - NOT_BEFORE_SKEW_MS) / 1000) * 1000;
  }

  #modelOid(model: string): Buffer {
    let o = this.#modelOids.get(model);
    if (!o) this.#modelOids.set(model, (o = oid(modelTypeOid(model))));
    return o;
  }

  #minter(profile: EndEntityProfile, caName: CaName): Promise<EndEntityMinter> {
    const k = `${profile}:${caName}`;
    let p = this.#minters.get(k);
    if (!p) {
      p = this.#o.cas.get(caName).then((ca) => new EndEntityMinter({ ca, profile, urls: issuerUrls(this.#o.publicUrl, caName) }));
      this.#minters.set(k, p);
      p.catch(() => this.#minters.delete(k));
    }
    return p;
  }

  /** Stores minted certificates in one transaction after the key-reuse check; supersedes `replacesSerial`. */
  async #store(profile: EndEntityProfile, caName: CaName, minted: ReadonlyArray<{ m: MintedCertificate; device: IssuanceDevice | undefined }>, replacesSerial: string | undefined): Promise<void> {
    const now = this.#clock.nowMs();
    const rows: CertificateTable[] = minted.map(({ m, device }) => ({
      serial: m.serialHex, ca_name: caName, profile, device_id: device?.id ?? null, tenant_id: device?.tenantId ?? null, subject: m.subjectText,
      not_before: m.notBeforeMs, not_after: m.notAfterMs, spki_sha256: m.spkiSha256, der: m.der, status: 'valid',
      revoked_at: null, revocation_reason: null, superseded_by: null, created_at: now,
    }));
    await this.#o.db.transaction().execute(async (trx) => {
      if (this.#o.dialect === 'postgres') await sql`select pg_advisory_xact_lock(${PG_ISSUANCE_LOCK})`.execute(trx);
      await assertNoKeyReuse(trx, rows);
      if (replacesSerial !== undefined) await supersede(trx, replacesSerial, rows[0] as CertificateTable);
      await insertCertificates(trx, rows);
    });
  }

  async #auditAndAnnounce(caName: CaName, profile: EndEntityProfile, minted: ReadonlyArray<{ m: MintedCertificate; device: IssuanceDevice | undefined }>, actor: string, announce: boolean, replacesSerial?: string): Promise<void> {
    let events: AuditEvent[];
    if (minted.length <= 1) {
      events = minted.map(({ m, device }) => ({
        actor, action: 'pki.certificate.issued', target: `certificate:${m.serialHex}`, tenantId: device?.tenantId ?? null,
        details: { caName, profile, deviceId: device?.id ?? null, subject: m.subjectText, notAfter: m.notAfterMs, ...(replacesSerial ? { replacesSerial } : {}) },
      }));
    } else {
      // Bulk: one entry per AUDIT_BULK_CHUNK certificates, listing each [serial, device id]; the
      // record is as complete, and hashing one entry per certificate would cost the factory run ~15%.
      events = [];
      for (let i = 0; i < minted.length; i += AUDIT_BULK_CHUNK) {
        const chunk = minted.slice(i, i + AUDIT_BULK_CHUNK);
        events.push({ actor, action: 'pki.certificate.issued', target: `ca:${caName}`, tenantId: chunk[0]?.device?.tenantId ?? null, details: { caName, profile, count: chunk.length, certificates: chunk.map(({ m, device }) => [m.serialHex, device?.id ?? null]) } });
      }
    }
    await this.#o.audit.appendMany(events);
    if (announce) for (const { m, device } of minted) await this.#o.events.publish({ kind: 'certificate.issued', serial: m.serialHex, caName, deviceId: device?.id ?? null });
  }

  #result(m: MintedCertificate, minter: EndEntityMinter): IssuedCertificate {
    // PEM forms are computed on first read: a bulk run that only stores certificates skips them.
    let pem: string | undefined;
    const pemOf = (): string => (pem ??= toPem('CERTIFICATE', m.der));
    return {
      serial: m.serialHex, der: m.der, notBefore: m.notBeforeMs, notAfter: m.notAfterMs,
      get pem() {
        return pemOf();
      },
      get chainPem() {
        return pemOf() + minter.chainPem;
      },
    };
  }
}

/** RFC 7030 §3.4 / our policy: a public key certified for one device is never certified for another. */
async function assertNoKeyReuse(trx: Transaction<Database>, rows: readonly CertificateTable[]): Promise<void> {
  const owner = new Map<string, string | null>();
  for (const r of rows) {
    const k = r.spki_sha256.toString('hex');
    if (owner.has(k) && owner.get(k) !== r.device_id) throw new PkiError('KEY_REUSED', 'the same public key was requested for two devices', { details: { deviceId: r.device_id } });
    owner.set(k, r.device_id);
  }
  const hashes = rows.map((r) => r.spki_sha256);
  for (let i = 0; i < hashes.length; i += 500) {
    const found = await trx.selectFrom('certificate').select(['spki_sha256', 'device_id']).where('spki_sha256', 'in', hashes.slice(i, i + 500)).execute();
    for (const f of found) {
      const wanted = owner.get(Buffer.from(f.spki_sha256).toString('hex'));
      // A device key equal to another device's or to a platform key (device_id null) is refused;
      // the platform renewing its own TLS certificate on the same key is not.
      if (f.device_id !== wanted) throw new PkiError('KEY_REUSED', 'this public key was already certified for another device or the platform', { details: { deviceId: wanted ?? null } });
    }
  }
}

/** The replaced certificate must be the same device's valid one (RFC 7030 §4.2.2). */
async function supersede(trx: Transaction<Database>, serial: string, next: CertificateTable): Promise<void> {
  const old = await trx.selectFrom('certificate').select(['serial', 'device_id', 'status']).where('serial', '=', serial.toLowerCase()).executeTakeFirst();
  if (!old || old.device_id !== next.device_id) throw new PkiError('CERT_NOT_FOUND', 'no certificate with that serial for this device', { details: { serial } });
  if (old.status !== 'valid') throw new PkiError('CERT_REVOKED', `the certificate being replaced is ${old.status}`, { details: { serial } });
  await trx.updateTable('certificate').set({ status: 'superseded', superseded_by: next.serial }).where('serial', '=', old.serial).where('status', '=', 'valid').execute();
}
