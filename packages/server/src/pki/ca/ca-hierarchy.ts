import { createHash } from 'node:crypto';
import { type Clock, systemClock, toPem } from '@medtrust/core';
import type { Kysely } from 'kysely';
import type { AuditLog } from '../../audit/index.ts';
import type { Database } from '../../db/index.ts';
import type { Job } from '../../jobs/index.ts';
import { PkiError } from '../errors.ts';
import type { KeyAlgorithm, KeyStore } from '../keystore/key-store.ts';
import type { CaName, CertificateAuthorities, LoadedCa, OcspSignerIdentity } from '../pki-contracts.ts';
import { spkiDer, subjectPublicKeyOf } from '../profiles/algorithms.ts';
import { caExtensions, daysMs, endEntityExtensions, issuerUrls, newSerial, Validity } from '../profiles/certificate-profiles.ts';
import { keyIdentifier, subjectKeyIdentifier } from '../profiles/extensions.ts';
import { encodeName } from '../profiles/names.ts';
import { certificateFields } from './certificate-fields.ts';
import { signCertificate } from './sign-certificate.ts';

/** The CAs below the root that issue certificates, each with its own delegated OCSP signer. */
export const ISSUING_CAS = ['manufacturing', 'operational', 'infrastructure'] as const;
export type IssuingCaName = (typeof ISSUING_CAS)[number];

interface CaSpec {
  readonly commonName: string;
  /** Root P-384 for a long life; issuing CAs P-256, whose signing speed the issuance hot path needs. */
  readonly algorithm: KeyAlgorithm;
  readonly validityDays: number;
  readonly pathLen: number;
}

const SPECS: Readonly<Record<CaName, CaSpec>> = {
  root: { commonName: 'MedTrust Root CA', algorithm: 'ec-p384', validityDays: Validity.rootDays, pathLen: 1 },
  manufacturing: { commonName: 'MedTrust Manufacturing CA', algorithm: 'ec-p256', validityDays: Validity.manufacturingDays, pathLen: 0 },
  operational: { commonName: 'MedTrust Operational Device CA', algorithm: 'ec-p256', validityDays: Validity.operationalDays, pathLen: 0 },
  infrastructure: { commonName: 'MedTrust Infrastructure CA', algorithm: 'ec-p256', validityDays: Validity.infrastructureDays, pathLen: 0 },
};

/** What `medtrust init` prints per CA and signer. */
export interface CaSummary {
  readonly name: string;
  readonly subject: string;
  readonly sha256Fingerprint: string;
  readonly notAfter: number;
  readonly created: boolean;
}

export const ocspSignerRowName = (ca: CaName): string => `ocsp-signer:${ca}`;

/**
 * The platform's CA hierarchy in table `ca`, keys in the KeyStore: root, manufacturing,
 * operational and infrastructure CAs, and one delegated OCSP signer per issuing CA.
 */
export class CaHierarchy implements CertificateAuthorities {
  readonly #db: Kysely<Database>;
  readonly #keyStore: KeyStore;
  readonly #audit: AuditLog;
  readonly #clock: Clock;
  readonly #publicUrl: string;
  readonly #organization: string;
  #loaded = new Map<string, Promise<LoadedCa>>();
  #signers = new Map<string, Promise<OcspSignerIdentity>>();

  constructor(opts: { db: Kysely<Database>; keyStore: KeyStore; audit: AuditLog; publicUrl: string; organization?: string; clock?: Clock }) {
    this.#db = opts.db;
    this.#keyStore = opts.keyStore;
    this.#audit = opts.audit;
    this.#publicUrl = opts.publicUrl;
    this.#organization = opts.organization ?? 'MedTrust';
    this.#clock = opts.clock ?? systemClock;
  }

  /** The organisation name in every CA subject; IDevIDs carry it as the manufacturer. */
  get organization(): string {
    return this.#organization;
  }

  /** Creates whatever is missing (idempotent), re-issues OCSP signers near expiry. */
  async init(): Promise<CaSummary[]> {
    const out: CaSummary[] = [];
    out.push(await this.#ensureCa('root'));
    for (const name of ISSUING_CAS) out.push(await this.#ensureCa(name));
    for (const name of ISSUING_CAS) out.push(await this.#ensureOcspSigner(name));
    this.#loaded = new Map();
    this.#signers = new Map();
    return out;
  }

  get(name: CaName): Promise<LoadedCa> {
    if (!(name in SPECS)) return Promise.reject(new PkiError('CA_UNKNOWN', 'no CA by that name', { details: { name } }));
    let p = this.#loaded.get(name);
    if (!p) {
      p = this.#load(name);
      this.#loaded.set(name, p);
      p.catch(() => this.#loaded.delete(name));
    }
    return p;
  }

  ocspSigner(issuer: CaName, opts: { fresh?: boolean } = {}): Promise<OcspSignerIdentity> {
    if (!(ISSUING_CAS as readonly string[]).includes(issuer)) return Promise.reject(new PkiError('CA_UNKNOWN', 'no OCSP signer for that CA', { details: { issuer } }));
    let p = this.#signers.get(issuer);
    if (p && opts.fresh) {
      // Another node may have renewed it: re-read the row, reload the key only when it changed.
      const cached = p;
      p = this.#refreshSigner(issuer, cached);
      this.#signers.set(issuer, p);
      const refreshed = p;
      refreshed.catch(() => {
        if (this.#signers.get(issuer) === refreshed) this.#signers.set(issuer, cached);
      });
    }
    if (!p) {
      p = this.#loadSigner(issuer);
      this.#signers.set(issuer, p);
      p.catch(() => this.#signers.delete(issuer));
    }
    return p;
  }

  /**
   * Re-issues every delegated OCSP signer within `Validity.ocspSignerRenewBeforeDays` of expiry
   * (new key, new certificate, audited as pki.ocsp-signer.issued); returns what it renewed.
   */
  async renewOcspSigners(): Promise<CaSummary[]> {
    const renewed: CaSummary[] = [];
    for (const name of ISSUING_CAS) {
      const s = await this.#ensureOcspSigner(name);
      if (s.created) {
        this.#signers.delete(name);
        renewed.push(s);
      }
    }
    return renewed;
  }

  /**
   * The scheduled renewal, once per cluster. Daily is ample against a 30-day window; other nodes
   * pick the new signer up through `ocspSigner(…, { fresh: true })` (the OCSP issuer directory).
   */
  ocspSignerRenewalJob(intervalMs = 24 * 3_600_000): Job {
    return { name: 'pki.ocsp-signer-renewal', intervalMs, run: async () => void (await this.renewOcspSigners()) };
  }

  /** CERT_INVALID if `certDer` is not a well-formed certificate. Matches by AKI, else issuer name. */
  async findIssuer(certDer: Buffer): Promise<LoadedCa | undefined> {
    const f = certificateFields(certDer);
    const rows = await this.#db.selectFrom('ca').select(['name', 'key_id']).execute();
    const names = rows.map((r) => r.name).filter((n): n is CaName => n in SPECS);
    if (f.authorityKeyId) {
      const hit = rows.find((r) => names.includes(r.name as CaName) && Buffer.from(r.key_id).equals(f.authorityKeyId as Buffer));
      return hit ? this.get(hit.name as CaName) : undefined;
    }
    for (const n of names) {
      const ca = await this.get(n);
      if (ca.subjectDer.equals(f.issuerDer)) return ca;
    }
    return undefined;
  }

  /** Summaries of every row, for `medtrust init` and the API. */
  async list(): Promise<CaSummary[]> {
    const rows = await this.#db.selectFrom('ca').selectAll().orderBy('created_at').execute();
    return rows.map((r) => summary(r.name, r.subject, Buffer.from(r.certificate_der), r.not_after, false));
  }

  async #load(name: CaName): Promise<LoadedCa> {
    const row = await this.#db.selectFrom('ca').selectAll().where('name', '=', name).executeTakeFirst();
    if (!row) throw new PkiError('CA_NOT_INITIALISED', 'the CA hierarchy has not been created; run `medtrust init`', { details: { name } });
    const der = Buffer.from(row.certificate_der);
    const key = await this.#keyStore.load(row.key_ref);
    const chainDer: Buffer[] = [der];
    if (row.issuer_name && row.issuer_name !== name) chainDer.push(...(await this.get(row.issuer_name as CaName)).chainDer);
    return Object.freeze({
      name, key, certificateDer: der, certificatePem: toPem('CERTIFICATE', der),
      subjectDer: certificateFields(der).subjectDer,
      keyId: Buffer.from(row.key_id), nameSha1: Buffer.from(row.name_sha1),
      chainDer: Object.freeze(chainDer),
    });
  }

  async #loadSigner(issuer: CaName): Promise<OcspSignerIdentity> {
    const row = await this.#db.selectFrom('ca').selectAll().where('name', '=', ocspSignerRowName(issuer)).executeTakeFirst();
    if (!row) throw new PkiError('CA_NOT_INITIALISED', 'no OCSP signer; run `medtrust init`', { details: { issuer } });
    return Object.freeze({ certificateDer: Buffer.from(row.certificate_der), key: await this.#keyStore.load(row.key_ref), issuer });
  }

  async #refreshSigner(issuer: CaName, cached: Promise<OcspSignerIdentity>): Promise<OcspSignerIdentity> {
    const row = await this.#db.selectFrom('ca').select('certificate_der').where('name', '=', ocspSignerRowName(issuer)).executeTakeFirst();
    const current = await cached.catch(() => undefined);
    if (current && row && Buffer.from(row.certificate_der).equals(current.certificateDer)) return current;
    return this.#loadSigner(issuer);
  }

  async #ensureCa(name: CaName): Promise<CaSummary> {
    const existing = await this.#db.selectFrom('ca').selectAll().where('name', '=', name).executeTakeFirst();
    if (existing) return summary(name, existing.subject, Buffer.from(existing.certificate_der), existing.not_after, false);
    const spec = SPECS[name];
    const now = this.#clock.nowMs();
    const key = await this.#keyStore.generate(keyLabel(name), spec.algorithm);
    const subject = encodeName([{ type: 'O', value: this.#organization }, { type: 'CN', value: spec.commonName }]);
    const spki = spkiDer(key.publicKey);
    const keyId = keyIdentifier(subjectPublicKeyOf(spki));
    let notAfterMs = now + daysMs(spec.validityDays);
    let der: Buffer;
    if (name === 'root') {
      der = signCertificate({ issuerKey: key, issuerDer: subject.der, serial: newSerial(), notBeforeMs: now, notAfterMs, subjectDer: subject.der, spkiDer: spki, extensions: [...caExtensions({ pathLen: spec.pathLen }), subjectKeyIdentifier(keyId)] });
    } else {
      const root = await this.get('root');
      // RFC 5280 §6.1: a certificate outliving its issuer is useless; nest inside the root's validity.
      notAfterMs = Math.min(notAfterMs, await this.#notAfterOf('root'));
      der = signCertificate({
        issuerKey: root.key, issuerDer: root.subjectDer, serial: newSerial(), notBeforeMs: now, notAfterMs, subjectDer: subject.der, spkiDer: spki,
        extensions: [...caExtensions({ pathLen: spec.pathLen, issuer: { keyId: root.keyId, urls: issuerUrls(this.#publicUrl, 'root') } }), subjectKeyIdentifier(keyId)],
      });
    }
    return this.#store({ rowName: name, caName: 'root', profile: 'ca', keyRef: key.ref, der, subjectText: subject.text, subjectDer: subject.der, keyId, notBeforeMs: now, notAfterMs });
  }

  async #notAfterOf(rowName: string): Promise<number> {
    const row = await this.#db.selectFrom('ca').select('not_after').where('name', '=', rowName).executeTakeFirst();
    if (!row) throw new PkiError('CA_NOT_INITIALISED', 'the CA hierarchy has not been created; run `medtrust init`', { details: { name: rowName } });
    return Number(row.not_after);
  }

  async #ensureOcspSigner(ca: IssuingCaName): Promise<CaSummary> {
    const rowName = ocspSignerRowName(ca);
    const now = this.#clock.nowMs();
    const existing = await this.#db.selectFrom('ca').selectAll().where('name', '=', rowName).executeTakeFirst();
    if (existing && existing.not_after - now > daysMs(Validity.ocspSignerRenewBeforeDays)) return summary(rowName, existing.subject, Buffer.from(existing.certificate_der), existing.not_after, false);
    const issuer = await this.get(ca);
    const key = await this.#keyStore.generate(keyLabel(`ocsp-signer-${ca}`), 'ec-p256');
    const subject = encodeName([{ type: 'O', value: this.#organization }, { type: 'CN', value: `MedTrust OCSP Signer (${ca})` }]);
    const spki = spkiDer(key.publicKey);
    const keyId = keyIdentifier(subjectPublicKeyOf(spki));
    const notAfterMs = Math.min(now + daysMs(Validity.ocspSignerDays), await this.#notAfterOf(ca));
    const der = signCertificate({
      issuerKey: issuer.key, issuerDer: issuer.subjectDer, serial: newSerial(), notBeforeMs: now, notAfterMs, subjectDer: subject.der, spkiDer: spki,
      extensions: [...endEntityExtensions('ocsp-signer', issuer.keyId, issuerUrls(this.#publicUrl, ca)), subjectKeyIdentifier(keyId)],
    });
    const previous = existing ? { serial: certificateFields(Buffer.from(existing.certificate_der)).serialHex, notAfter: Number(existing.not_after) } : undefined;
    return this.#store({ rowName, caName: ca, profile: 'ocsp-signer', keyRef: key.ref, der, subjectText: subject.text, subjectDer: subject.der, keyId, notBeforeMs: now, notAfterMs, ...(previous ? { replaces: previous } : {}) });
  }

  async #store(r: { rowName: string; caName: CaName; profile: 'ca' | 'ocsp-signer'; keyRef: string; der: Buffer; subjectText: string; subjectDer: Buffer; keyId: Buffer; notBeforeMs: number; notAfterMs: number; replaces?: { serial: string; notAfter: number } }): Promise<CaSummary> {
    const now = this.#clock.nowMs();
    const f = certificateFields(r.der);
    const row = {
      name: r.rowName, key_ref: r.keyRef, certificate_der: r.der, subject: r.subjectText, issuer_name: r.caName,
      key_id: r.keyId, name_sha1: createHash('sha1').update(r.subjectDer).digest(), not_after: r.notAfterMs, created_at: now, crl_number: 0,
    };
    const won = await this.#db.transaction().execute(async (trx) => {
      if (r.replaces) {
        // Conditional on the row we read: of two nodes renewing at once, one wins (our new key stays unused).
        const res = await trx.updateTable('ca').set({ key_ref: row.key_ref, certificate_der: row.certificate_der, subject: row.subject, key_id: row.key_id, name_sha1: row.name_sha1, not_after: row.not_after, created_at: now })
          .where('name', '=', r.rowName).where('not_after', '=', r.replaces.notAfter).executeTakeFirst();
        if (Number(res.numUpdatedRows) === 0) return false;
      } else {
        const res = await trx.insertInto('ca').values(row).onConflict((oc) => oc.column('name').doNothing()).executeTakeFirst();
        // Another process initialised it first: keep theirs (our fresh key stays unused).
        if (Number(res.numInsertedOrUpdatedRows ?? 0n) === 0) return false;
      }
      await trx.insertInto('certificate').values({
        serial: f.serialHex, ca_name: r.caName, profile: r.profile, device_id: null, tenant_id: null, subject: r.subjectText,
        not_before: r.notBeforeMs, not_after: r.notAfterMs, spki_sha256: createHash('sha256').update(f.spkiDer).digest(), der: r.der, status: 'valid',
        revoked_at: null, revocation_reason: null, superseded_by: null, created_at: now,
      }).execute();
      return true;
    });
    if (!won) {
      const theirs = await this.#db.selectFrom('ca').selectAll().where('name', '=', r.rowName).executeTakeFirstOrThrow();
      return summary(r.rowName, theirs.subject, Buffer.from(theirs.certificate_der), theirs.not_after, false);
    }
    await this.#audit.append({ actor: 'system', action: r.profile === 'ca' ? 'pki.ca.created' : 'pki.ocsp-signer.issued', target: `ca:${r.rowName}`, details: { serial: f.serialHex, subject: r.subjectText, notAfter: r.notAfterMs, keyRef: r.keyRef, keyStore: this.#keyStore.kind, ...(r.replaces ? { renewal: true, replacesSerial: r.replaces.serial, replacedNotAfter: r.replaces.notAfter } : {}) } });
    return summary(r.rowName, r.subjectText, r.der, r.notAfterMs, true);
  }
}

function keyLabel(name: string): string {
  return `ca-${name}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

function summary(name: string, subject: string, der: Buffer, notAfter: number, created: boolean): CaSummary {
  return { name, subject, sha256Fingerprint: createHash('sha256').update(der).digest('hex').toUpperCase().replace(/(..)(?!$)/g, '$1:'), notAfter, created };
}
