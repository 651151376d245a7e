import { type Clock, newId, systemClock } from '@medtrust/core';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/index.ts';
import type { KeyAlgorithm, KeyHandle, KeyStore } from '../../pki/index.ts';
import { type TufPublicKey, tufKeyId, tufPublicKey } from './tuf-key.ts';

/** A usable TUF key: the store handle, its TUF public form and key id. */
export interface TufSigningKey {
  readonly handle: KeyHandle;
  readonly keyId: string;
  readonly key: TufPublicKey;
}

/** `root`, the online top-level roles, or a model's delegated role. */
export type TufKeyRole = 'root' | 'targets' | 'snapshot' | 'timestamp' | `delegation:${string}`;

type Db = Kysely<Database> | Transaction<Database>;

/**
 * Key-store labels: root keys live under `tuf-offline.` so an operator can keep them in a
 * separate store or HSM slot; everything the server signs with day to day is under `tuf-online.`.
 */
export function keyLabel(role: TufKeyRole): string {
  const safe = role.replace(/[^A-Za-z0-9._-]/g, '-');
  return `${role === 'root' ? 'tuf-offline' : 'tuf-online'}.${safe}.${newId('k')}`;
}

/** Finds TUF keys by role in `tuf_key` and their private halves in the key store. */
export class TufKeyring {
  readonly #keyStore: KeyStore;
  readonly #clock: Clock;
  readonly #algorithm: KeyAlgorithm;

  constructor(opts: { keyStore: KeyStore; clock?: Clock; algorithm?: 'ed25519' | 'ec-p256' }) {
    this.#keyStore = opts.keyStore;
    this.#clock = opts.clock ?? systemClock;
    this.#algorithm = opts.algorithm ?? 'ed25519';
  }

  /** Creates a key for `role` and records its public half. */
  async generate(db: Db, role: TufKeyRole): Promise<TufSigningKey> {
    const handle = await this.#keyStore.generate(keyLabel(role), this.#algorithm);
    const key = tufPublicKey(handle);
    const keyId = tufKeyId(key);
    await db.insertInto('tuf_key').values({ key_id: keyId, role, key_ref: handle.ref, key_json: JSON.stringify(key), created_at: this.#clock.nowMs(), retired_at: null }).execute();
    return { handle, keyId, key };
  }

  /** The current (not retired) keys of a role, oldest first. */
  async current(db: Db, role: TufKeyRole): Promise<TufSigningKey[]> {
    const rows = await db.selectFrom('tuf_key').selectAll().where('role', '=', role).where('retired_at', 'is', null).orderBy('created_at').orderBy('key_id').execute();
    const out: TufSigningKey[] = [];
    for (const r of rows) out.push({ handle: await this.#keyStore.load(r.key_ref), keyId: r.key_id, key: JSON.parse(r.key_json) as TufPublicKey });
    return out;
  }

  /** The current keys of a role, generating one when there is none yet. */
  async ensure(db: Db, role: TufKeyRole): Promise<TufSigningKey[]> {
    const keys = await this.current(db, role);
    return keys.length > 0 ? keys : [await this.generate(db, role)];
  }

  async retire(db: Db, role: TufKeyRole, keyIds: readonly string[]): Promise<void> {
    if (keyIds.length === 0) return;
    await db.updateTable('tuf_key').set({ retired_at: this.#clock.nowMs() }).where('role', '=', role).where('key_id', 'in', [...keyIds]).execute();
  }
}
