import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { type Clock, CoreError, newId, systemClock } from '@medtrust/core';
import type { Kysely } from 'kysely';
import type { AuditLog } from '../audit/index.ts';
import type { Database } from '../db/index.ts';
import { AccessError } from './errors.ts';
import type { Principal } from './principal.ts';
import { isRole } from './roles.ts';
import { roleAllowedIn } from './tenant-roles.ts';

export interface CreatedToken {
  readonly id: string;
  /** The whole bearer value; shown once, never stored. */
  readonly token: string;
  readonly expiresAt: number | null;
}

/** A token as listed: everything but the secret. */
export interface TokenView {
  readonly id: string;
  readonly tenantId: string;
  readonly role: string;
  readonly name: string;
  readonly createdAt: number;
  readonly expiresAt: number | null;
  readonly revokedAt: number | null;
  readonly createdBy: string;
}

const TOKEN_RE = /^mt_(tok_[0-9a-z]{26})\.([A-Za-z0-9_-]{43})$/;

/** API tokens: `mt_<id>.<secret>`, stored as SHA-256 of the secret, compared in constant time. */
export class TokenService {
  readonly #db: Kysely<Database>;
  readonly #audit: AuditLog;
  readonly #clock: Clock;

  constructor(opts: { db: Kysely<Database>; audit: AuditLog; clock?: Clock }) {
    this.#db = opts.db;
    this.#audit = opts.audit;
    this.#clock = opts.clock ?? systemClock;
  }

  async create(opts: { tenantId: string; role: string; name: string; ttlDays?: number; createdBy: string }): Promise<CreatedToken> {
    if (!isRole(opts.role)) throw new AccessError('ROLE_UNKNOWN', `unknown role "${opts.role}"`);
    if (opts.ttlDays !== undefined && !(Number.isFinite(opts.ttlDays) && opts.ttlDays > 0 && opts.ttlDays <= 3650)) throw new CoreError('REQUEST_INVALID', 'ttlDays must be between 0 and 3650', { details: { field: 'ttlDays' } });
    const tenant = await this.#db.selectFrom('tenant').select(['id', 'kind']).where('id', '=', opts.tenantId).executeTakeFirst();
    if (!tenant) throw new AccessError('TENANT_UNKNOWN', `no tenant ${opts.tenantId}`);
    if (!roleAllowedIn(tenant.kind, opts.role)) throw new AccessError('ROLE_NOT_ALLOWED', `role ${opts.role} cannot be given in a ${tenant.kind} tenant`);
    const id = newId('tok');
    const secret = randomBytes(32).toString('base64url');
    const now = this.#clock.nowMs();
    const expiresAt = opts.ttlDays === undefined ? null : now + opts.ttlDays * 86_400_000;
    await this.#db.insertInto('api_token').values({
      id, tenant_id: opts.tenantId, role: opts.role, name: opts.name,
      secret_sha256: createHash('sha256').update(secret).digest(),
      created_at: now, expires_at: expiresAt, revoked_at: null, last_used_at: null, created_by: opts.createdBy,
    }).execute();
    await this.#audit.append({ actor: opts.createdBy, action: 'access.token.created', target: `token:${id}`, tenantId: opts.tenantId, details: { role: opts.role, name: opts.name, expiresAt } });
    return { id, token: `mt_${id}.${secret}`, expiresAt };
  }

  /**
   * Revokes a token. With `tenantScope`, a token of another tenant is TOKEN_NOT_FOUND, exactly
   * like a missing one (tenant isolation); without it (CLI, operator) any tenant's token.
   */
  async revoke(id: string, by: string, tenantScope: string | null = null): Promise<void> {
    let q = this.#db.updateTable('api_token').set({ revoked_at: this.#clock.nowMs() }).where('id', '=', id).where('revoked_at', 'is', null);
    if (tenantScope !== null) q = q.where('tenant_id', '=', tenantScope);
    const r = await q.executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) throw new AccessError('TOKEN_NOT_FOUND', `no active token ${id}`);
    const row = await this.#db.selectFrom('api_token').select('tenant_id').where('id', '=', id).executeTakeFirst();
    await this.#audit.append({ actor: by, action: 'access.token.revoked', target: `token:${id}`, tenantId: row?.tenant_id ?? null });
  }

  /** Tokens (never their secrets) of one tenant, or all tenants when `tenantScope` is null. */
  async list(tenantScope: string | null): Promise<TokenView[]> {
    let q = this.#db.selectFrom('api_token').select(['id', 'tenant_id', 'role', 'name', 'created_at', 'expires_at', 'revoked_at', 'last_used_at', 'created_by']).orderBy('created_at').orderBy('id');
    if (tenantScope !== null) q = q.where('tenant_id', '=', tenantScope);
    return (await q.execute()).map((r) => ({ id: r.id, tenantId: r.tenant_id, role: r.role, name: r.name, createdAt: r.created_at, expiresAt: r.expires_at, revokedAt: r.revoked_at, createdBy: r.created_by }));
  }

  /** Resolves a bearer value to a principal, or throws TOKEN_INVALID. */
  async authenticate(bearer: string): Promise<Principal> {
    const m = TOKEN_RE.exec(bearer);
    if (!m) throw new AccessError('TOKEN_INVALID', 'malformed bearer token');
    const [, id, secret] = m as unknown as [string, string, string];
    const row = await this.#db.selectFrom('api_token').innerJoin('tenant', 'tenant.id', 'api_token.tenant_id')
      .select(['api_token.id', 'api_token.tenant_id', 'api_token.role', 'api_token.secret_sha256', 'api_token.expires_at', 'api_token.revoked_at', 'tenant.kind'])
      .where('api_token.id', '=', id).executeTakeFirst();
    const presented = createHash('sha256').update(secret).digest();
    // Compare even when the row is missing so timing does not reveal which token ids exist.
    const stored = row?.secret_sha256 ?? Buffer.alloc(32);
    const match = timingSafeEqual(presented, stored) && row !== undefined;
    const now = this.#clock.nowMs();
    if (!row || !match || row.revoked_at !== null || (row.expires_at !== null && row.expires_at <= now) || !isRole(row.role)) {
      throw new AccessError('TOKEN_INVALID', 'unknown, expired or revoked token');
    }
    return { kind: 'token', tokenId: row.id, tenantId: row.tenant_id, tenantKind: row.kind, role: row.role };
  }
}
