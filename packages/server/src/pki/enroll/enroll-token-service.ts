import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { type Clock, CoreError, newId, systemClock } from '@medtrust/core';
import type { Kysely } from 'kysely';
import type { AuditLog } from '../../audit/index.ts';
import type { Database } from '../../db/index.ts';
import { PkiError } from '../errors.ts';

/** A one-time enrolment secret as shown to its creator, once. */
export interface CreatedEnrollToken {
  readonly username: string;
  /** 192 random bits, base64url; never stored, only its scrypt hash. */
  readonly password: string;
  readonly deviceId: string;
  readonly expiresAt: number;
}

/** The caller's tenant: an operator sees every device, a hospital or site only its own. */
export interface TenantScope {
  readonly tenantId: string;
  readonly tenantKind: 'operator' | 'customer' | 'site';
}

/** A secret that was checked and consumed; `release` undoes the consumption if issuance fails. */
export interface ConsumedEnrollToken {
  readonly username: string;
  readonly deviceId: string;
  release(): Promise<void>;
}

// The password has 192 bits of entropy, so scrypt guards a leaked table, not a guessable secret:
// a modest cost keeps enrolment fast while still making offline work useless.
const SCRYPT = { N: 4096, r: 8, p: 1, keyLen: 32 } as const;
const USERNAME_RE = /^enr_[0-9a-z]{26}$/;
const PASSWORD_RE = /^[A-Za-z0-9_-]{32}$/;

function hash(password: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, SCRYPT.keyLen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/**
 * One-time EST enrolment secrets (RFC 7030 §3.2.3 HTTP Basic): created for one device, hashed
 * with scrypt, compared in constant time, consumed by a conditional UPDATE so that two
 * concurrent uses cannot both succeed.
 */
export class EnrollTokenService {
  readonly #db: Kysely<Database>;
  readonly #audit: AuditLog;
  readonly #clock: Clock;
  readonly #defaultTtlHours: number;

  constructor(opts: { db: Kysely<Database>; audit: AuditLog; ttlHours: number; clock?: Clock }) {
    this.#db = opts.db;
    this.#audit = opts.audit;
    this.#defaultTtlHours = opts.ttlHours;
    this.#clock = opts.clock ?? systemClock;
  }

  /** Creates a secret for a device known to the caller; DEVICE_UNKNOWN if the id is not registered. */
  async create(opts: { deviceId: string; createdBy: string; ttlHours?: number; tenantScope?: TenantScope }): Promise<CreatedEnrollToken> {
    const ttlHours = opts.ttlHours ?? this.#defaultTtlHours;
    if (!Number.isFinite(ttlHours) || ttlHours <= 0) throw new CoreError('REQUEST_INVALID', 'ttlHours must be a positive number', { details: { ttlHours } });
    const device = await this.#db.selectFrom('device').select(['id', 'tenant_id', 'site_id']).where('id', '=', opts.deviceId).executeTakeFirst();
    const scope = opts.tenantScope;
    // Another tenant's device looks exactly like a missing one, so ids cannot be probed.
    const visible = device !== undefined && (scope === undefined || scope.tenantKind === 'operator' || device.tenant_id === scope.tenantId || device.site_id === scope.tenantId);
    if (!device || !visible) throw new PkiError('DEVICE_UNKNOWN', `no device ${opts.deviceId}`);
    const username = newId('enr');
    const password = randomBytes(24).toString('base64url');
    const salt = randomBytes(16);
    const now = this.#clock.nowMs();
    const expiresAt = now + Math.round(ttlHours * 3_600_000);
    await this.#db.insertInto('enroll_token').values({
      username, device_id: device.id, password_hash: await hash(password, salt), salt,
      expires_at: expiresAt, used_at: null, created_at: now, created_by: opts.createdBy,
    }).execute();
    await this.#audit.append({ actor: opts.createdBy, action: 'pki.enroll-token.created', target: `device:${device.id}`, tenantId: device.tenant_id, details: { username, expiresAt } });
    return { username, password, deviceId: device.id, expiresAt };
  }

  /**
   * Checks a username/password and marks the secret used. ENROLL_UNAUTHORIZED for unknown or
   * wrong credentials, ENROLL_SECRET_USED when already used or expired. Audited either way.
   */
  async consume(username: string, password: string, actor: string): Promise<ConsumedEnrollToken> {
    // The formats are public, so refusing a malformed pair before any work leaks nothing and
    // spares the scrypt cost on garbage.
    const wellFormed = USERNAME_RE.test(username) && PASSWORD_RE.test(password);
    const row = wellFormed ? await this.#db.selectFrom('enroll_token').selectAll().where('username', '=', username).executeTakeFirst() : undefined;
    let match = false;
    if (wellFormed) {
      // Hash even for an unknown user so that timing does not tell which usernames exist.
      const presented = await hash(password, row ? Buffer.from(row.salt) : Buffer.alloc(16));
      const stored = row ? Buffer.from(row.password_hash) : Buffer.alloc(SCRYPT.keyLen);
      match = timingSafeEqual(presented, stored) && row !== undefined;
    }
    if (!row || !match) {
      await this.#refuse(actor, username, row?.device_id ?? null, 'ENROLL_UNAUTHORIZED');
      throw new PkiError('ENROLL_UNAUTHORIZED', 'unknown enrolment username or wrong password');
    }
    const now = this.#clock.nowMs();
    // RFC 7030 §3.2.3 leaves secret lifetime to policy; ours: used once, before expiry. The
    // condition on used_at makes the check-and-set atomic across requests and nodes.
    const r = await this.#db.updateTable('enroll_token').set({ used_at: now })
      .where('username', '=', username).where('used_at', 'is', null).where('expires_at', '>', now)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) {
      await this.#refuse(actor, username, row.device_id, 'ENROLL_SECRET_USED');
      throw new PkiError('ENROLL_SECRET_USED', row.used_at !== null ? 'enrolment secret already used' : 'enrolment secret expired');
    }
    await this.#audit.append({ actor, action: 'pki.enroll-token.used', target: `device:${row.device_id}`, details: { username } });
    return {
      username, deviceId: row.device_id,
      release: async () => {
        // Issuance was refused (bad CSR, reused key): give the secret back so the device can retry.
        await this.#db.updateTable('enroll_token').set({ used_at: null }).where('username', '=', username).where('used_at', '=', now).execute();
        await this.#audit.append({ actor, action: 'pki.enroll-token.released', target: `device:${row.device_id}`, details: { username } });
      },
    };
  }

  async #refuse(actor: string, username: string, deviceId: string | null, code: 'ENROLL_UNAUTHORIZED' | 'ENROLL_SECRET_USED'): Promise<void> {
    await this.#audit.append({
      actor, action: 'pki.enroll-token.refused', outcome: 'denied',
      target: deviceId ? `device:${deviceId}` : null,
      // The username only when it is well-formed: never echo arbitrary attacker input or a password.
      details: { code, username: USERNAME_RE.test(username) ? username : null },
    });
  }
}
