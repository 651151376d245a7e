import { type Clock, newId, systemClock } from '@medtrust/core';
import type { Kysely } from 'kysely';
import type { AuditLog } from '../audit/index.ts';
import type { Database } from '../db/index.ts';
import { AccessError } from './errors.ts';
import type { TenantKind } from './principal.ts';

export const OPERATOR_TENANT_NAME = 'Operator';

export interface TenantView {
  readonly id: string;
  readonly kind: TenantKind;
  readonly name: string;
  readonly parentId: string | null;
  readonly timeZone: string | null;
  readonly createdAt: number;
}

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Tenants: the operator, customer hospitals and their sites. */
export class TenantService {
  readonly #db: Kysely<Database>;
  readonly #clock: Clock;
  readonly #audit: AuditLog | undefined;

  constructor(opts: { db: Kysely<Database>; clock?: Clock; audit?: AuditLog }) {
    this.#db = opts.db;
    this.#clock = opts.clock ?? systemClock;
    this.#audit = opts.audit;
  }

  /** The operator tenant, created on first call. */
  async ensureOperator(): Promise<string> {
    const existing = await this.#db.selectFrom('tenant').select('id').where('kind', '=', 'operator').executeTakeFirst();
    if (existing) return existing.id;
    const id = newId('ten');
    await this.#db.insertInto('tenant').values({ id, kind: 'operator', name: OPERATOR_TENANT_NAME, parent_id: null, time_zone: null, created_at: this.#clock.nowMs() }).execute();
    return id;
  }

  /** Creates a customer (no parent) or a site (parent: a customer); TENANT_INVALID otherwise. */
  async create(opts: { kind: 'customer' | 'site'; name: string; parentId?: string; timeZone?: string; createdBy?: string }): Promise<string> {
    const name = opts.name.trim();
    if (opts.kind !== 'customer' && opts.kind !== 'site') throw new AccessError('TENANT_INVALID', 'kind must be customer or site', { details: { field: 'kind' } });
    if (name.length === 0 || name.length > 200) throw new AccessError('TENANT_INVALID', 'name must be 1-200 characters', { details: { field: 'name' } });
    if (opts.timeZone !== undefined && !isTimeZone(opts.timeZone)) throw new AccessError('TENANT_INVALID', 'not an IANA time zone', { details: { field: 'timeZone' } });
    if (opts.kind === 'customer' && opts.parentId !== undefined) throw new AccessError('TENANT_INVALID', 'a customer has no parent', { details: { field: 'parentId' } });
    if (opts.kind === 'site') {
      if (opts.parentId === undefined) throw new AccessError('TENANT_INVALID', 'a site needs a parent customer', { details: { field: 'parentId' } });
      const parent = await this.#db.selectFrom('tenant').select('kind').where('id', '=', opts.parentId).executeTakeFirst();
      if (!parent) throw new AccessError('TENANT_UNKNOWN', `no tenant ${opts.parentId}`);
      if (parent.kind !== 'customer') throw new AccessError('TENANT_INVALID', 'a site\'s parent must be a customer', { details: { field: 'parentId' } });
    }
    const id = newId('ten');
    await this.#db.insertInto('tenant').values({ id, kind: opts.kind, name, parent_id: opts.parentId ?? null, time_zone: opts.timeZone ?? null, created_at: this.#clock.nowMs() }).execute();
    await this.#audit?.append({ actor: opts.createdBy ?? 'system', action: 'access.tenant.created', target: `tenant:${id}`, tenantId: id, details: { kind: opts.kind, parentId: opts.parentId ?? null } });
    return id;
  }

  async list(): Promise<TenantView[]> {
    return (await this.#db.selectFrom('tenant').selectAll().orderBy('created_at').orderBy('id').execute()).map(view);
  }

  /** One tenant, or TENANT_UNKNOWN. */
  async get(id: string): Promise<TenantView> {
    const row = await this.#db.selectFrom('tenant').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new AccessError('TENANT_UNKNOWN', `no tenant ${id}`);
    return view(row);
  }
}

function view(r: { id: string; kind: TenantKind; name: string; parent_id: string | null; time_zone: string | null; created_at: number }): TenantView {
  return { id: r.id, kind: r.kind, name: r.name, parentId: r.parent_id, timeZone: r.time_zone, createdAt: r.created_at };
}
