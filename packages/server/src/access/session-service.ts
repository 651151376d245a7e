import { createHash, randomBytes } from 'node:crypto';
import { type Clock, CoreError, systemClock } from '@medtrust/core';
import type { Kysely } from 'kysely';
import type { Database } from '../db/index.ts';
import type { Job } from '../jobs/index.ts';
import type { Principal } from './principal.ts';
import { isRole } from './roles.ts';

/** Name of the dashboard session cookie. */
export const SESSION_COOKIE = 'mt_session';

const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

const sha256 = (s: string): Buffer => createHash('sha256').update(s).digest();

/**
 * Browser sessions: a 256-bit random id in the cookie, only its SHA-256 in the database (a leaked
 * table gives no usable session), an absolute lifetime and an idle timeout.
 */
export class SessionService {
  readonly #db: Kysely<Database>;
  readonly #clock: Clock;
  readonly ttlMs: number;
  readonly #idleTimeoutMs: number;

  constructor(opts: { db: Kysely<Database>; clock?: Clock; ttlMs?: number; idleTimeoutMs?: number }) {
    this.#db = opts.db;
    this.#clock = opts.clock ?? systemClock;
    this.ttlMs = opts.ttlMs ?? 12 * 3_600_000;
    this.#idleTimeoutMs = opts.idleTimeoutMs ?? 30 * 60_000;
  }

  async create(opts: { userId: string; tenantId: string }): Promise<{ sessionId: string; expiresAt: number }> {
    // OWASP session management: at least 64 bits of entropy; we use 256 from the CSPRNG.
    const sessionId = randomBytes(32).toString('base64url');
    const now = this.#clock.nowMs();
    const expiresAt = now + this.ttlMs;
    await this.#db.insertInto('session').values({ id_sha256: sha256(sessionId), user_id: opts.userId, tenant_id: opts.tenantId, created_at: now, expires_at: expiresAt, last_seen_at: now, revoked_at: null }).execute();
    return { sessionId, expiresAt };
  }

  /** Resolves a cookie value to a user principal, or throws UNAUTHENTICATED. */
  async authenticateSession(sessionId: string): Promise<Principal> {
    if (!SESSION_ID.test(sessionId)) throw new CoreError('UNAUTHENTICATED', 'session is invalid or has ended');
    const key = sha256(sessionId);
    // The lookup is by a hash of the secret, so its timing reveals nothing usable about valid ids.
    const row = await this.#db.selectFrom('session').innerJoin('app_user', 'app_user.id', 'session.user_id').innerJoin('tenant', 'tenant.id', 'app_user.tenant_id')
      .select(['session.user_id', 'session.expires_at', 'session.last_seen_at', 'session.revoked_at', 'app_user.tenant_id', 'app_user.role', 'app_user.disabled_at', 'tenant.kind'])
      .where('session.id_sha256', '=', key).executeTakeFirst();
    const now = this.#clock.nowMs();
    if (!row || row.revoked_at !== null || row.disabled_at !== null || row.expires_at <= now || row.last_seen_at + this.#idleTimeoutMs <= now || !isRole(row.role)) {
      throw new CoreError('UNAUTHENTICATED', 'session is invalid or has ended');
    }
    // Writing on every request would cost a write per click; a minute of slack is harmless.
    if (now - row.last_seen_at > 60_000) await this.#db.updateTable('session').set({ last_seen_at: now }).where('id_sha256', '=', key).execute();
    return { kind: 'user', userId: row.user_id, sessionId: key.toString('hex').slice(0, 16), tenantId: row.tenant_id, tenantKind: row.kind, role: row.role };
  }

  /** Ends a session (logout); returns whose it was, or undefined for an unknown or ended id. */
  async revoke(sessionId: string): Promise<{ userId: string; tenantId: string } | undefined> {
    if (!SESSION_ID.test(sessionId)) return undefined;
    const key = sha256(sessionId);
    const row = await this.#db.selectFrom('session').select(['user_id', 'tenant_id']).where('id_sha256', '=', key).where('revoked_at', 'is', null).executeTakeFirst();
    if (!row) return undefined;
    await this.#db.updateTable('session').set({ revoked_at: this.#clock.nowMs() }).where('id_sha256', '=', key).execute();
    return { userId: row.user_id, tenantId: row.tenant_id };
  }

  /** The scheduled job that prunes ended sessions (JobRunner: once per cluster per interval). */
  pruneJob(intervalMs: number): Job {
    return { name: 'access.session.prune', intervalMs, run: async () => void (await this.prune()) };
  }

  /** Deletes sessions that ended more than a day ago. */
  async prune(): Promise<number> {
    const r = await this.#db.deleteFrom('session').where('expires_at', '<', this.#clock.nowMs() - 86_400_000).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
