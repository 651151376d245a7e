import { type Clock, systemClock } from '@medtrust/core';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database, SqlDialectName } from '../../db/index.ts';
import { UpdateError } from '../errors.ts';
import { signTuf } from './tuf-key.ts';
import type { TufSigningKey } from './tuf-keyring.ts';
import { type AnySigned, documentBytes, type SignedDocument } from './tuf-metadata.ts';

type Db = Kysely<Database> | Transaction<Database>;

export interface StoredDocument<S extends AnySigned = AnySigned> {
  readonly role: string;
  readonly version: number;
  readonly body: string;
  readonly expiresAtMs: number;
  readonly doc: SignedDocument<S>;
}

const PG_TUF_LOCK = 0x4d54_5446; // 'MTTF'

/**
 * Signed TUF documents in `tuf_metadata`, one row per (role, version). Changes run one at a time:
 * serialised in the process, under an advisory lock on PostgreSQL, and retried when another
 * process wrote the same version first (the primary key refuses the second).
 */
export class TufDocumentStore {
  readonly #db: Kysely<Database>;
  readonly #dialect: SqlDialectName;
  readonly #clock: Clock;
  #tail: Promise<unknown> = Promise.resolve();

  constructor(opts: { db: Kysely<Database>; dialect: SqlDialectName; clock?: Clock }) {
    this.#db = opts.db;
    this.#dialect = opts.dialect;
    this.#clock = opts.clock ?? systemClock;
  }

  get db(): Kysely<Database> {
    return this.#db;
  }

  /** Runs `fn` in a transaction, alone among TUF changes. */
  change<T>(fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    const run = this.#tail.then(() => this.#withRetry(fn));
    this.#tail = run.catch(() => undefined);
    return run;
  }

  async #withRetry<T>(fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#db.transaction().execute(async (trx) => {
          if (this.#dialect === 'postgres') await sql`select pg_advisory_xact_lock(${PG_TUF_LOCK})`.execute(trx);
          return fn(trx);
        });
      } catch (e) {
        const msg = e instanceof Error ? e.message : '';
        if (!/UNIQUE|duplicate key|SQLITE_BUSY|database is locked/i.test(msg)) throw e;
        if (attempt >= 5) throw new UpdateError('TUF_CONFLICT', 'TUF repository changed concurrently', { cause: e });
      }
    }
  }

  async latest<S extends AnySigned>(db: Db, role: string): Promise<StoredDocument<S> | undefined> {
    const row = await db.selectFrom('tuf_metadata').selectAll().where('role', '=', role).orderBy('version', 'desc').limit(1).executeTakeFirst();
    return row ? toStored<S>(row) : undefined;
  }

  async get(db: Db, role: string, version: number): Promise<StoredDocument | undefined> {
    const row = await db.selectFrom('tuf_metadata').selectAll().where('role', '=', role).where('version', '=', version).executeTakeFirst();
    return row ? toStored(row) : undefined;
  }

  /** Signs `signed` with every key given (sorted by key id) and stores it; returns the bytes. */
  async write<S extends AnySigned>(db: Db, role: string, signed: S, signers: readonly TufSigningKey[], expiresAtMs: number): Promise<StoredDocument<S>> {
    const signatures = [...signers].sort((a, b) => a.keyId.localeCompare(b.keyId)).map((k) => signTuf(signed, k.handle, k.keyId));
    const doc: SignedDocument<S> = { signatures, signed };
    const body = documentBytes(doc);
    await db.insertInto('tuf_metadata').values({ role, version: signed.version, body, expires_at: expiresAtMs, created_at: this.#clock.nowMs() }).execute();
    return { role, version: signed.version, body, expiresAtMs, doc };
  }
}

function toStored<S extends AnySigned>(row: { role: string; version: number; body: string; expires_at: number }): StoredDocument<S> {
  return { role: row.role, version: Number(row.version), body: row.body, expiresAtMs: Number(row.expires_at), doc: JSON.parse(row.body) as SignedDocument<S> };
}
