import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/index.ts';
import type { CaName, CertificateRecord, CertificateStore } from '../pki-contracts.ts';
import type { CertificateTable } from '../tables.ts';

export interface CertificateQuery {
  readonly caName?: string;
  readonly deviceId?: string;
  readonly tenantId?: string;
  readonly profile?: CertificateTable['profile'];
  readonly status?: CertificateTable['status'];
  /** Only certificates whose serial starts with this lower-case hex. */
  readonly serialPrefix?: string;
  /** Newest first; at most 1000. */
  readonly limit?: number;
  /** Continue after this created_at (exclusive), from the previous page's last row. */
  readonly createdBefore?: number;
}

/** Rows per INSERT: 16 columns x 500 stays under SQLite's and PostgreSQL's bind limits. */
const INSERT_CHUNK = 500;

/** Every certificate the platform issued, in table `certificate`. */
export class DbCertificateStore implements CertificateStore {
  readonly #db: Kysely<Database>;

  constructor(opts: { db: Kysely<Database> }) {
    this.#db = opts.db;
  }

  async get(serial: string): Promise<CertificateRecord | undefined> {
    return this.#db.selectFrom('certificate').selectAll().where('serial', '=', serial.toLowerCase()).executeTakeFirst().then(normalise);
  }

  async currentForDevice(deviceId: string, profile: 'idevid' | 'ldevid'): Promise<CertificateRecord | undefined> {
    return this.#db.selectFrom('certificate').selectAll()
      .where('device_id', '=', deviceId).where('profile', '=', profile).where('status', '=', 'valid')
      .orderBy('created_at', 'desc').orderBy('not_before', 'desc').limit(1).executeTakeFirst().then(normalise);
  }

  async revokedBy(caName: CaName): Promise<readonly CertificateRecord[]> {
    const rows = await this.#db.selectFrom('certificate').selectAll().where('ca_name', '=', caName).where('status', '=', 'revoked').orderBy('revoked_at').execute();
    return rows.map((r) => normalise(r) as CertificateRecord);
  }

  /** Certificates matching every given filter, newest first. */
  async list(q: CertificateQuery = {}): Promise<readonly CertificateRecord[]> {
    let query = this.#db.selectFrom('certificate').selectAll();
    if (q.caName !== undefined) query = query.where('ca_name', '=', q.caName);
    if (q.deviceId !== undefined) query = query.where('device_id', '=', q.deviceId);
    if (q.tenantId !== undefined) query = query.where('tenant_id', '=', q.tenantId);
    if (q.profile !== undefined) query = query.where('profile', '=', q.profile);
    if (q.status !== undefined) query = query.where('status', '=', q.status);
    if (q.serialPrefix !== undefined) query = query.where('serial', 'like', `${q.serialPrefix.toLowerCase().replace(/[^0-9a-f]/g, '')}%`);
    if (q.createdBefore !== undefined) query = query.where('created_at', '<', q.createdBefore);
    const rows = await query.orderBy('created_at', 'desc').orderBy('serial').limit(Math.min(Math.max(q.limit ?? 100, 1), 1000)).execute();
    return rows.map((r) => normalise(r) as CertificateRecord);
  }

  /** Certificates for a public key (SHA-256 of its SPKI), for the key-reuse rule. */
  async bySpki(spkiSha256: Buffer): Promise<readonly CertificateRecord[]> {
    const rows = await this.#db.selectFrom('certificate').selectAll().where('spki_sha256', '=', spkiSha256).execute();
    return rows.map((r) => normalise(r) as CertificateRecord);
  }
}

/** Inserts rows inside the caller's transaction, in chunks under the bind-parameter limits. */
export async function insertCertificates(trx: Transaction<Database>, rows: readonly CertificateTable[]): Promise<void> {
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) await trx.insertInto('certificate').values(rows.slice(i, i + INSERT_CHUNK)).execute();
}

/** Both dialects hand back Buffers for blobs, but as Uint8Array subclasses of varying kinds; unify. */
function normalise(r: CertificateTable | undefined): CertificateRecord | undefined {
  if (!r) return undefined;
  return { ...r, der: Buffer.from(r.der), spki_sha256: Buffer.from(r.spki_sha256) };
}
