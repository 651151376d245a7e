import { type Clock, newId, systemClock } from '@medtrust/core';
import type { Kysely } from 'kysely';
import type { Database } from '../db/index.ts';

export const OPERATOR_TENANT_NAME = 'Operator';

/** Tenants: the operator, customer hospitals and their sites. */
export class TenantService {
  readonly #db: Kysely<Database>;
  readonly #clock: Clock;

  constructor(opts: { db: Kysely<Database>; clock?: Clock }) {
    this.#db = opts.db;
    this.#clock = opts.clock ?? systemClock;
  }

  /** The operator tenant, created on first call. */
  async ensureOperator(): Promise<string> {
    const existing = await this.#db.selectFrom('tenant').select('id').where('kind', '=', 'operator').executeTakeFirst();
    if (existing) return existing.id;
    const id = newId('ten');
    await this.#db.insertInto('tenant').values({ id, kind: 'operator', name: OPERATOR_TENANT_NAME, parent_id: null, time_zone: null, created_at: this.#clock.nowMs() }).execute();
    return id;
  }

  async create(opts: { kind: 'customer' | 'site'; name: string; parentId?: string; timeZone?: string }): Promise<string> {
    const id = newId('ten');
    await this.#db.insertInto('tenant').values({ id, kind: opts.kind, name: opts.name, parent_id: opts.parentId ?? null, time_zone: opts.timeZone ?? null, created_at: this.#clock.nowMs() }).execute();
    return id;
  }
}
