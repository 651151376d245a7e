import type { Kysely } from 'kysely';
import type { Database } from '../../db/index.ts';
import { type RevokedEntry, revokedEntryOf } from './revoked-entry.ts';

export interface CertificateRevocationState {
  readonly caName: string;
  /** undefined while the certificate is valid. */
  readonly revoked: RevokedEntry | undefined;
}

/** Reads revocation state from the `certificate` table for CRLs and OCSP. */
export class RevocationReader {
  readonly #db: Kysely<Database>;

  constructor(opts: { db: Kysely<Database> }) {
    this.#db = opts.db;
  }

  /** The state of one certificate, or undefined when we never issued that serial. */
  async stateOf(serial: string): Promise<CertificateRevocationState | undefined> {
    const r = await this.#db.selectFrom('certificate as c').leftJoin('certificate as s', 's.serial', 'c.superseded_by')
      .select(['c.serial', 'c.ca_name', 'c.status', 'c.revoked_at', 'c.revocation_reason', 'c.not_before', 's.created_at as successor_created_at'])
      .where('c.serial', '=', serial).executeTakeFirst();
    if (!r) return undefined;
    return { caName: r.ca_name, revoked: revokedEntryOf(r, r.successor_created_at === null ? null : Number(r.successor_created_at)) };
  }

  /** Revoked (or superseded) certificates of a CA that have not expired at `nowMs` (RFC 5280 §3.3 lets expired ones leave the CRL). */
  async revokedBy(caName: string, nowMs: number): Promise<RevokedEntry[]> {
    const rows = await this.#db.selectFrom('certificate as c').leftJoin('certificate as s', 's.serial', 'c.superseded_by')
      .select(['c.serial', 'c.status', 'c.revoked_at', 'c.revocation_reason', 'c.not_before', 's.created_at as successor_created_at'])
      .where('c.ca_name', '=', caName).where('c.status', 'in', ['revoked', 'superseded']).where('c.not_after', '>', nowMs)
      .orderBy('c.serial').execute();
    return rows.flatMap((r) => {
      const e = revokedEntryOf(r, r.successor_created_at === null ? null : Number(r.successor_created_at));
      return e ? [e] : [];
    });
  }
}
