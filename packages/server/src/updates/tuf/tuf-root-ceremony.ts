import { type Clock, systemClock } from '@medtrust/core';
import type { AuditLog } from '../../audit/index.ts';
import type { KeyStore } from '../../pki/index.ts';
import { UpdateError } from '../errors.ts';
import type { TufDocumentStore } from './tuf-document-store.ts';
import { TufKeyring, type TufSigningKey } from './tuf-keyring.ts';
import { type RootSigned, type SnapshotSigned, type TargetsSigned, type TimestampSigned, metaFileInfo, TUF_SPEC_VERSION, tufExpiry } from './tuf-metadata.ts';

const DAY_MS = 86_400_000;

/**
 * The operations that need the root keys: creating the repository and rotating the root.
 * Root keys sit under `tuf-offline.` labels; in production they belong in a separate key
 * store or HSM that is attached only for these ceremonies (docs/updates.md).
 */
export class TufRootCeremony {
  readonly #docs: TufDocumentStore;
  readonly #keys: TufKeyring;
  readonly #audit: AuditLog;
  readonly #clock: Clock;
  readonly #onSigned: () => void;
  readonly #rootDays: number;

  constructor(opts: { docs: TufDocumentStore; keyStore: KeyStore; audit: AuditLog; clock?: Clock; rootDays?: number; algorithm?: 'ed25519' | 'ec-p256'; onSigned?: () => void }) {
    this.#onSigned = opts.onSigned ?? (() => undefined);
    this.#docs = opts.docs;
    this.#clock = opts.clock ?? systemClock;
    this.#keys = new TufKeyring({ keyStore: opts.keyStore, clock: this.#clock, algorithm: opts.algorithm });
    this.#audit = opts.audit;
    this.#rootDays = opts.rootDays ?? 365;
  }

  /** Creates root v1 (two root keys, threshold 2), targets, snapshot and timestamp; idempotent. */
  async initialise(actor: string): Promise<boolean> {
    const created = await this.#docs.change(async (trx) => {
      if (await this.#docs.latest(trx, 'root')) return false;
      const rootKeys = [await this.#keys.generate(trx, 'root'), await this.#keys.generate(trx, 'root')];
      const targets = await this.#keys.generate(trx, 'targets');
      const snapshot = await this.#keys.generate(trx, 'snapshot');
      const timestamp = await this.#keys.generate(trx, 'timestamp');
      const now = this.#clock.nowMs();
      const root = rootSigned(1, now + this.#rootDays * DAY_MS, rootKeys, 2, targets, snapshot, timestamp);
      await this.#docs.write(trx, 'root', root, rootKeys, secs(now + this.#rootDays * DAY_MS));
      // Short first lifetimes: the online roles are re-signed by the refresh job anyway.
      const t: TargetsSigned = { _type: 'targets', spec_version: TUF_SPEC_VERSION, version: 1, expires: tufExpiry(now + 7 * DAY_MS), targets: {}, delegations: { keys: {}, roles: [] } };
      const td = await this.#docs.write(trx, 'targets', t, [targets], secs(now + 7 * DAY_MS));
      const s: SnapshotSigned = { _type: 'snapshot', spec_version: TUF_SPEC_VERSION, version: 1, expires: tufExpiry(now + DAY_MS), meta: { 'targets.json': metaFileInfo(1, td.body) } };
      const sd = await this.#docs.write(trx, 'snapshot', s, [snapshot], secs(now + DAY_MS));
      const ts: TimestampSigned = { _type: 'timestamp', spec_version: TUF_SPEC_VERSION, version: 1, expires: tufExpiry(now + DAY_MS), meta: { 'snapshot.json': metaFileInfo(1, sd.body) } };
      await this.#docs.write(trx, 'timestamp', ts, [timestamp], secs(now + DAY_MS));
      return true;
    });
    this.#onSigned();
    if (created) await this.#audit.append({ actor, action: 'tuf.repository.initialised', target: 'tuf:root', details: { rootVersion: 1, rootThreshold: 2 } });
    return created;
  }

  /**
   * TUF 1.0 §6.1: a new root N+1 is signed by a threshold of the keys of root N and of its own
   * keys, so clients chain trust from the old root to the new one. Old root keys are retired.
   */
  async rotateRoot(opts: { actor: string; keyCount?: number; threshold?: number }): Promise<{ version: number; keyIds: string[] }> {
    const keyCount = opts.keyCount ?? 2;
    const threshold = opts.threshold ?? 2;
    // TUF root must be resilient to one lost or stolen key: threshold >= 2, never above the key count.
    if (!Number.isInteger(threshold) || !Number.isInteger(keyCount) || threshold < 2 || keyCount < threshold || keyCount > 16) {
      throw new UpdateError('TUF_ROOT_INVALID', `threshold ${threshold} of ${keyCount} keys is not allowed`, { details: { threshold, keyCount } });
    }
    const r = await this.#docs.change(async (trx) => {
      const old = await this.#docs.latest<RootSigned>(trx, 'root');
      if (!old) throw new UpdateError('TUF_NOT_INITIALISED', 'no TUF root yet');
      const oldKeys = await this.#keys.current(trx, 'root');
      const fresh: TufSigningKey[] = [];
      for (let i = 0; i < keyCount; i++) fresh.push(await this.#keys.generate(trx, 'root'));
      const online = await Promise.all((['targets', 'snapshot', 'timestamp'] as const).map(async (role) => {
        const keys = await this.#keys.current(trx, role);
        if (keys.length === 0) throw new UpdateError('TUF_NOT_INITIALISED', `no ${role} key`);
        return keys;
      }));
      const now = this.#clock.nowMs();
      const version = old.version + 1;
      const signed = rootSigned(version, now + this.#rootDays * DAY_MS, fresh, threshold, ...online.map((k) => k[0]!) as [TufSigningKey, TufSigningKey, TufSigningKey]);
      await this.#docs.write(trx, 'root', signed, [...oldKeys, ...fresh], secs(now + this.#rootDays * DAY_MS));
      await this.#keys.retire(trx, 'root', oldKeys.map((k) => k.keyId));
      return { version, keyIds: fresh.map((k) => k.keyId), retired: oldKeys.map((k) => k.keyId) };
    });
    this.#onSigned();
    await this.#audit.append({ actor: opts.actor, action: 'tuf.root.rotated', target: `tuf:root:${r.version}`, details: { version: r.version, threshold, newKeyIds: r.keyIds, retiredKeyIds: r.retired } });
    return { version: r.version, keyIds: r.keyIds };
  }
}

function secs(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
}

function rootSigned(version: number, expiresMs: number, rootKeys: readonly TufSigningKey[], threshold: number, targets: TufSigningKey, snapshot: TufSigningKey, timestamp: TufSigningKey): RootSigned {
  const keys = Object.fromEntries([...rootKeys, targets, snapshot, timestamp].map((k) => [k.keyId, k.key]));
  return {
    _type: 'root', spec_version: TUF_SPEC_VERSION, version, expires: tufExpiry(expiresMs), consistent_snapshot: true, keys,
    roles: {
      root: { keyids: rootKeys.map((k) => k.keyId), threshold },
      targets: { keyids: [targets.keyId], threshold: 1 },
      snapshot: { keyids: [snapshot.keyId], threshold: 1 },
      timestamp: { keyids: [timestamp.keyId], threshold: 1 },
    },
  };
}
