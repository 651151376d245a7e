import type { KeyObject } from 'node:crypto';
import { type Clock, systemClock } from '@medtrust/core';
import type { Kysely } from 'kysely';
import type { Database } from '../db/index.ts';
import type { KeyHandle, KeyStore } from '../pki/index.ts';
import { keyIdOf } from './checkpoint-note.ts';

/** Key store label of the audit checkpoint signing key. */
export const CHECKPOINT_KEY_LABEL = 'audit-checkpoint';

/**
 * The checkpoint signing key in the platform key store (created on first use: Ed25519, or P-256
 * on an HSM), and the keys a verifier trusts: every key this deployment signed checkpoints with,
 * as the key store (not the database) says.
 */
export class CheckpointKeys {
  readonly #db: Kysely<Database>;
  readonly #keyStore: () => Promise<KeyStore>;
  readonly #clock: Clock;
  #signer: Promise<KeyHandle> | undefined;

  constructor(opts: { db: Kysely<Database>; keyStore: KeyStore | (() => Promise<KeyStore>); clock?: Clock }) {
    this.#db = opts.db;
    const ks = opts.keyStore;
    this.#keyStore = typeof ks === 'function' ? ks : async () => ks;
    this.#clock = opts.clock ?? systemClock;
  }

  /** The current signing key (loads it, or generates it the first time). */
  signer(): Promise<KeyHandle> {
    this.#signer ??= this.#loadOrCreate();
    this.#signer.catch(() => (this.#signer = undefined));
    return this.#signer;
  }

  /** Public keys of every signing key this deployment used, read from the key store. */
  async trusted(): Promise<KeyObject[]> {
    const rows = await this.#db.selectFrom('audit_signing_key').select(['ref', 'key_id']).execute();
    const keys: KeyObject[] = [];
    for (const r of rows) {
      const k = await (await this.#keyStore()).load(r.ref);
      // The row only names a ref; a key whose id differs from the row's is not the one recorded.
      if (keyIdOf(k.publicKey) === r.key_id) keys.push(k.publicKey);
    }
    return keys;
  }

  async #loadOrCreate(): Promise<KeyHandle> {
    const row = await this.#db.selectFrom('audit_signing_key').select('ref').where('retired_at', 'is', null).orderBy('created_at', 'desc').limit(1).executeTakeFirst();
    const store = await this.#keyStore();
    if (row) return store.load(row.ref);
    let key: KeyHandle;
    try {
      // HSMs reached over PKCS#11 (SoftHSM2 among them) may lack Ed25519; P-256 is universal there.
      key = await store.generate(CHECKPOINT_KEY_LABEL, store.kind === 'pkcs11' ? 'ec-p256' : 'ed25519');
    } catch (e) {
      // Another process generated it first (or this table was restored without it): use that key.
      key = await store.load(CHECKPOINT_KEY_LABEL).catch(() => Promise.reject(e as Error));
    }
    await this.#db.insertInto('audit_signing_key').values({ key_id: keyIdOf(key.publicKey), ref: key.ref, algorithm: key.algorithm, created_at: this.#clock.nowMs(), retired_at: null })
      .onConflict((oc) => oc.column('key_id').doNothing()).execute();
    return key;
  }
}
