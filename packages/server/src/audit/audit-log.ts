import { createHash } from 'node:crypto';
import { type Clock, stableJson, systemClock } from '@medtrust/core';
import { sql, type Kysely } from 'kysely';
import type { Database, SqlDialectName } from '../db/index.ts';

export interface AuditEvent {
  readonly actor: string;
  readonly action: string;
  readonly target?: string | null;
  readonly tenantId?: string | null;
  readonly outcome?: 'success' | 'failure' | 'denied';
  /** Facts for the record; never secrets, never PHI values. */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** Append-only record of security decisions. Domains receive it at construction. */
export interface AuditLog {
  append(event: AuditEvent): Promise<void>;
  appendMany(events: readonly AuditEvent[]): Promise<void>;
}

export const GENESIS_HASH = Buffer.alloc(32);

/** The bytes an entry's hash covers: the previous hash, then the entry's fields as stable JSON. */
export function entryHash(prev: Buffer, e: { seq: number; at: number; tenant_id: string | null; actor: string; action: string; target: string | null; outcome: string; details: string }): Buffer {
  const body = stableJson({ seq: e.seq, at: e.at, tenant_id: e.tenant_id, actor: e.actor, action: e.action, target: e.target, outcome: e.outcome, details: e.details });
  return createHash('sha256').update(prev).update(body).digest();
}

const PG_AUDIT_LOCK = 0x4d54_4155; // 'MTAU'

/**
 * Hash-chained audit log in the database. Each entry's hash covers the previous hash, so an
 * edit, deletion or reordering breaks the chain from that entry on.
 */
export class DbAuditLog implements AuditLog {
  readonly #db: Kysely<Database>;
  readonly #dialect: SqlDialectName;
  readonly #clock: Clock;
  #tail: Promise<void> = Promise.resolve();

  constructor(opts: { db: Kysely<Database>; dialect: SqlDialectName; clock?: Clock }) {
    this.#db = opts.db;
    this.#dialect = opts.dialect;
    this.#clock = opts.clock ?? systemClock;
  }

  append(event: AuditEvent): Promise<void> {
    return this.appendMany([event]);
  }

  appendMany(events: readonly AuditEvent[]): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    // Serialise appends within the process; across processes the transaction below does.
    const run = this.#tail.then(() => this.#write(events));
    this.#tail = run.catch(() => undefined);
    return run;
  }

  async #write(events: readonly AuditEvent[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.#db.transaction().execute(async (trx) => {
          if (this.#dialect === 'postgres') await sql`select pg_advisory_xact_lock(${PG_AUDIT_LOCK})`.execute(trx);
          const last = await trx.selectFrom('audit_entry').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
          let seq = last?.seq ?? 0;
          let prev = last?.hash ?? GENESIS_HASH;
          const at = this.#clock.nowMs();
          const rows = events.map((ev) => {
            seq += 1;
            const row = {
              seq, at,
              tenant_id: ev.tenantId ?? null,
              actor: ev.actor,
              action: ev.action,
              target: ev.target ?? null,
              outcome: ev.outcome ?? 'success',
              details: stableJson(ev.details ?? {}),
            };
            const hash = entryHash(prev, row);
            const out = { ...row, prev_hash: prev, hash };
            prev = hash;
            return out;
          });
          for (let i = 0; i < rows.length; i += 200) await trx.insertInto('audit_entry').values(rows.slice(i, i + 200)).execute();
        });
        return;
      } catch (e) {
        // Another process (the CLI beside a running server on SQLite) took the same seq.
        if (attempt < 5 && isConflict(e)) continue;
        throw e;
      }
    }
  }
}

function isConflict(e: unknown): boolean {
  const msg = e instanceof Error ? e.message : '';
  return /UNIQUE|duplicate key|SQLITE_BUSY|database is locked/i.test(msg);
}
