import { randomBytes } from 'node:crypto';
import { type Clock, newId, systemClock } from '@medtrust/core';
import { type Kysely, sql } from 'kysely';
import type { AuditLog } from '../audit/index.ts';
import type { Database } from '../db/index.ts';
import { AccessError } from './errors.ts';
import { PasswordHasher } from './password-hasher.ts';
import type { TenantKind } from './principal.ts';
import { isRole, type Role } from './roles.ts';
import { roleAllowedIn } from './tenant-roles.ts';

export interface UserView {
  readonly id: string;
  readonly tenantId: string;
  readonly email: string;
  readonly role: Role;
  readonly lockedUntil: number | null;
  readonly createdAt: number;
}

/** Who a correct password belongs to. */
export interface PasswordLogin {
  readonly userId: string;
  readonly tenantId: string;
  readonly tenantKind: TenantKind;
  readonly role: Role;
}

// RFC 5321 §4.5.3.1.3: a path is at most 256 octets; the simple shape check catches typos only.
const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,190}\.[^\s@]{1,60}$/;
export const MIN_PASSWORD_LENGTH = 12;
/** Stored in place of a password hash for single-sign-on users; no password verifies against it. */
const SSO_ONLY = '!sso';

/** People who log in: per-tenant users with one role, scrypt passwords and lockout. */
export class UserService {
  readonly #db: Kysely<Database>;
  readonly #audit: AuditLog;
  readonly #clock: Clock;
  readonly #hasher: PasswordHasher;
  readonly #maxFailedAttempts: number;
  readonly #lockoutMs: number;

  constructor(opts: { db: Kysely<Database>; audit: AuditLog; clock?: Clock; hasher?: PasswordHasher; maxFailedAttempts?: number; lockoutMs?: number }) {
    this.#db = opts.db;
    this.#audit = opts.audit;
    this.#clock = opts.clock ?? systemClock;
    this.#hasher = opts.hasher ?? new PasswordHasher();
    this.#maxFailedAttempts = opts.maxFailedAttempts ?? 5;
    this.#lockoutMs = opts.lockoutMs ?? 15 * 60_000;
  }

  /** Creates a user; when no password is given one is generated and returned (shown once). */
  async create(opts: { tenantId: string; email: string; role: string; password?: string; createdBy: string }): Promise<UserView & { password?: string }> {
    if (!isRole(opts.role) || opts.role === 'device') throw new AccessError('ROLE_UNKNOWN', `"${opts.role}" is not a role for people`);
    const email = opts.email.trim().toLowerCase();
    if (!EMAIL.test(email)) throw new AccessError('USER_INVALID', 'malformed email', { details: { field: 'email' } });
    const generated = opts.password === undefined ? randomBytes(18).toString('base64url') : undefined;
    const password = opts.password ?? generated ?? '';
    // NIST SP 800-63B §5.1.1.2: at least 8 characters (we ask 12), and allow long passphrases.
    if (password.length < MIN_PASSWORD_LENGTH || password.length > 1024) throw new AccessError('USER_INVALID', `password must be ${MIN_PASSWORD_LENGTH}-1024 characters`, { details: { field: 'password' } });
    const tenant = await this.#db.selectFrom('tenant').select(['id', 'kind']).where('id', '=', opts.tenantId).executeTakeFirst();
    if (!tenant) throw new AccessError('TENANT_UNKNOWN', `no tenant ${opts.tenantId}`);
    if (!roleAllowedIn(tenant.kind, opts.role)) throw new AccessError('ROLE_NOT_ALLOWED', `role ${opts.role} cannot be given in a ${tenant.kind} tenant`);
    const exists = await this.#db.selectFrom('app_user').select('id').where('email', '=', email).executeTakeFirst();
    if (exists) throw new AccessError('USER_EXISTS', 'a user with this email exists');
    const id = newId('usr');
    const now = this.#clock.nowMs();
    try {
      await this.#db.insertInto('app_user').values({
        id, tenant_id: opts.tenantId, email, role: opts.role, password_hash: await this.#hasher.hash(password),
        failed_attempts: 0, locked_until: null, created_at: now, created_by: opts.createdBy, disabled_at: null,
      }).execute();
    } catch (e) {
      if (/UNIQUE|duplicate key/i.test(e instanceof Error ? e.message : '')) throw new AccessError('USER_EXISTS', 'a user with this email exists', { cause: e });
      throw e;
    }
    await this.#audit.append({ actor: opts.createdBy, action: 'access.user.created', target: `user:${id}`, tenantId: opts.tenantId, details: { role: opts.role } });
    return { id, tenantId: opts.tenantId, email, role: opts.role, lockedUntil: null, createdAt: now, ...(generated ? { password: generated } : {}) };
  }

  /**
   * A user who logs in through the tenant's identity provider only: no password (the stored hash
   * `!sso` matches no password, so password login always fails for them).
   */
  async createSso(opts: { tenantId: string; email: string; role: Role; createdBy: string }): Promise<UserView> {
    const email = opts.email.trim().toLowerCase();
    if (!EMAIL.test(email)) throw new AccessError('USER_INVALID', 'malformed email', { details: { field: 'email' } });
    const tenant = await this.#db.selectFrom('tenant').select(['id', 'kind']).where('id', '=', opts.tenantId).executeTakeFirst();
    if (!tenant) throw new AccessError('TENANT_UNKNOWN', `no tenant ${opts.tenantId}`);
    if (opts.role === 'device' || !roleAllowedIn(tenant.kind, opts.role)) throw new AccessError('ROLE_NOT_ALLOWED', `role ${opts.role} cannot be given in a ${tenant.kind} tenant`);
    const id = newId('usr');
    const now = this.#clock.nowMs();
    try {
      await this.#db.insertInto('app_user').values({ id, tenant_id: opts.tenantId, email, role: opts.role, password_hash: SSO_ONLY, failed_attempts: 0, locked_until: null, created_at: now, created_by: opts.createdBy, disabled_at: null }).execute();
    } catch (e) {
      if (/UNIQUE|duplicate key/i.test(e instanceof Error ? e.message : '')) throw new AccessError('USER_EXISTS', 'a user with this email exists', { cause: e });
      throw e;
    }
    await this.#audit.append({ actor: opts.createdBy, action: 'access.user.created', target: `user:${id}`, tenantId: opts.tenantId, details: { role: opts.role, via: 'sso' } });
    return { id, tenantId: opts.tenantId, email, role: opts.role, lockedUntil: null, createdAt: now };
  }

  /** Changes a user's role (the identity provider's claim mapping on each single sign-on). */
  async setRole(id: string, role: Role, by: string): Promise<void> {
    const row = await this.#db.selectFrom('app_user').select(['tenant_id', 'role']).where('id', '=', id).executeTakeFirst();
    if (!row || row.role === role) return;
    await this.#db.updateTable('app_user').set({ role }).where('id', '=', id).execute();
    await this.#audit.append({ actor: by, action: 'access.user.role-changed', target: `user:${id}`, tenantId: row.tenant_id, details: { from: row.role, to: role } });
  }

  /** Users of one tenant, or of all tenants when `tenantId` is null (operator). */
  async list(tenantId: string | null): Promise<UserView[]> {
    let q = this.#db.selectFrom('app_user').selectAll().where('disabled_at', 'is', null).orderBy('email');
    if (tenantId !== null) q = q.where('tenant_id', '=', tenantId);
    return (await q.execute()).map(view);
  }

  /** One user, or USER_NOT_FOUND when missing or outside `tenantScope` (null: any tenant). */
  async get(id: string, tenantScope: string | null): Promise<UserView> {
    const row = await this.#db.selectFrom('app_user').selectAll().where('id', '=', id).where('disabled_at', 'is', null).executeTakeFirst();
    if (!row || (tenantScope !== null && row.tenant_id !== tenantScope)) throw new AccessError('USER_NOT_FOUND', `no user ${id}`);
    return view(row);
  }

  /** Disables a user and ends their sessions. */
  async disable(id: string, tenantScope: string | null, by: string): Promise<void> {
    const u = await this.get(id, tenantScope);
    const now = this.#clock.nowMs();
    await this.#db.updateTable('app_user').set({ disabled_at: now }).where('id', '=', u.id).execute();
    await this.#db.updateTable('session').set({ revoked_at: now }).where('user_id', '=', u.id).where('revoked_at', 'is', null).execute();
    await this.#audit.append({ actor: by, action: 'access.user.disabled', target: `user:${u.id}`, tenantId: u.tenantId });
  }

  /**
   * Checks an email and password. Every failure is LOGIN_FAILED with the same message and
   * (through a dummy scrypt run) about the same time, so answers do not reveal which emails exist.
   */
  async checkPassword(emailIn: string, password: string, context: { ip: string }): Promise<PasswordLogin> {
    const email = emailIn.trim().toLowerCase();
    const row = await this.#db.selectFrom('app_user').innerJoin('tenant', 'tenant.id', 'app_user.tenant_id')
      .select(['app_user.id', 'app_user.tenant_id', 'app_user.role', 'app_user.password_hash', 'app_user.locked_until', 'app_user.disabled_at', 'tenant.kind'])
      .where('app_user.email', '=', email).executeTakeFirst();
    const ok = await this.#hasher.verify(password, row?.password_hash);
    const now = this.#clock.nowMs();
    const fail = async (reason: string, userId?: string, tenantId?: string): Promise<never> => {
      await this.#audit.append({ actor: userId ? `user:${userId}` : 'anonymous', action: 'access.login.failed', outcome: 'denied', target: userId ? `user:${userId}` : null, tenantId: tenantId ?? null, details: { reason, ip: context.ip } });
      throw new AccessError('LOGIN_FAILED', 'email or password is wrong');
    };
    if (!row || row.disabled_at !== null) return fail(row ? 'disabled' : 'unknown-user', row?.id, row?.tenant_id);
    // OWASP ASVS 2.2.1: while locked, even the right password is refused.
    if (row.locked_until !== null && row.locked_until > now) return fail('locked', row.id, row.tenant_id);
    if (!ok) {
      const r = await this.#db.updateTable('app_user').set({ failed_attempts: sql<number>`failed_attempts + 1` }).where('id', '=', row.id).returning('failed_attempts').executeTakeFirst();
      if ((r?.failed_attempts ?? 0) >= this.#maxFailedAttempts) {
        await this.#db.updateTable('app_user').set({ failed_attempts: 0, locked_until: now + this.#lockoutMs }).where('id', '=', row.id).execute();
        await this.#audit.append({ actor: 'system', action: 'access.user.locked', outcome: 'denied', target: `user:${row.id}`, tenantId: row.tenant_id, details: { failedAttempts: this.#maxFailedAttempts, lockedForMs: this.#lockoutMs, ip: context.ip } });
      }
      return fail('wrong-password', row.id, row.tenant_id);
    }
    if (!isRole(row.role)) return fail('bad-role', row.id, row.tenant_id);
    await this.#db.updateTable('app_user').set({ failed_attempts: 0, locked_until: null }).where('id', '=', row.id).execute();
    await this.#audit.append({ actor: `user:${row.id}`, action: 'access.login.succeeded', target: `user:${row.id}`, tenantId: row.tenant_id, details: { ip: context.ip } });
    return { userId: row.id, tenantId: row.tenant_id, tenantKind: row.kind, role: row.role };
  }
}

function view(r: { id: string; tenant_id: string; email: string; role: string; locked_until: number | null; created_at: number }): UserView {
  return { id: r.id, tenantId: r.tenant_id, email: r.email, role: r.role as Role, lockedUntil: r.locked_until, createdAt: r.created_at };
}
