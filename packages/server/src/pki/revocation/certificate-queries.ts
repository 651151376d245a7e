import type { Kysely } from 'kysely';
import type { Database } from '../../db/index.ts';
import type { CertificateTable } from '../tables.ts';
import { PkiError } from '../errors.ts';
import { applyScope, type CertificateScope } from './certificate-scope.ts';
import { crlReasonName } from './crl-reason.ts';
import { normaliseSerial } from './serial.ts';

/** A certificate as the REST API and the CLI show it (times ISO 8601). */
export interface CertificateView {
  readonly serial: string;
  readonly caName: string;
  readonly profile: CertificateTable['profile'];
  readonly deviceId: string | null;
  readonly tenantId: string | null;
  readonly subject: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly status: CertificateTable['status'];
  readonly revokedAt: string | null;
  readonly revocationReason: string | null;
  readonly supersededBy: string | null;
  readonly createdAt: string;
}

export interface CertificateListFilter {
  readonly deviceId?: string | undefined;
  readonly status?: CertificateTable['status'] | undefined;
  readonly limit?: number | undefined;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const COLUMNS = ['serial', 'ca_name', 'profile', 'device_id', 'tenant_id', 'subject', 'not_before', 'not_after', 'status', 'revoked_at', 'revocation_reason', 'superseded_by', 'created_at'] as const;

function view(r: Pick<CertificateTable, (typeof COLUMNS)[number]>): CertificateView {
  return {
    serial: r.serial, caName: r.ca_name, profile: r.profile, deviceId: r.device_id, tenantId: r.tenant_id, subject: r.subject,
    notBefore: iso(Number(r.not_before)), notAfter: iso(Number(r.not_after)), status: r.status,
    revokedAt: r.revoked_at === null ? null : iso(Number(r.revoked_at)),
    revocationReason: r.status === 'revoked' ? crlReasonName(r.revocation_reason) : null,
    supersededBy: r.superseded_by, createdAt: iso(Number(r.created_at)),
  };
}

/** Reads certificates for people (REST, CLI), within a tenant scope. */
export class CertificateQueries {
  readonly #db: Kysely<Database>;

  constructor(opts: { db: Kysely<Database> }) {
    this.#db = opts.db;
  }

  /** CERT_NOT_FOUND when absent or outside the scope (another tenant's certificate looks absent). */
  async get(serialInput: string, scope: CertificateScope): Promise<CertificateView & { readonly pem: string }> {
    const serial = normaliseSerial(serialInput);
    const r = await applyScope(this.#db.selectFrom('certificate').select([...COLUMNS, 'der']).where('certificate.serial', '=', serial), scope).executeTakeFirst();
    if (!r) throw new PkiError('CERT_NOT_FOUND', `no certificate ${serial}`, { details: { serial } });
    const b64 = Buffer.from(r.der).toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
    return { ...view(r), pem: `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n` };
  }

  /** Newest first, at most `limit` (default 100, at most 1000). */
  async list(filter: CertificateListFilter, scope: CertificateScope): Promise<CertificateView[]> {
    let q = applyScope(this.#db.selectFrom('certificate').select([...COLUMNS]), scope);
    if (filter.deviceId !== undefined) q = q.where('certificate.device_id', '=', filter.deviceId);
    if (filter.status !== undefined) q = q.where('certificate.status', '=', filter.status);
    const rows = await q.orderBy('certificate.created_at', 'desc').orderBy('certificate.serial').limit(Math.min(Math.max(filter.limit ?? 100, 1), 1000)).execute();
    return rows.map(view);
  }
}
