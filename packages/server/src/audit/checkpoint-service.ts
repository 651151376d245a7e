import type { KeyObject } from 'node:crypto';
import { type Clock, systemClock } from '@medtrust/core';
import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../db/index.ts';
import type { Job } from '../jobs/index.ts';
import type { KeyHandle } from '../pki/index.ts';
import { ChainChecker, describeProblem } from './chain-checker.ts';
import { type Checkpoint, keyIdOf, signCheckpoint, verifyCheckpointSignature } from './checkpoint-note.ts';
import { entryPages } from './entry-pages.ts';
import { AuditError } from './errors.ts';
import { MerkleAccumulator } from './merkle-tree.ts';
import type { AuditCheckpointTable } from './tables.ts';

/** Name of the scheduled checkpoint job (one run per cluster per interval). */
export const CHECKPOINT_JOB = 'audit.checkpoint';

/**
 * Signs Merkle checkpoints over the audit log. Each checkpoint resumes from the previous one's
 * compact range and checks the chain of the new entries before signing, so it never vouches for
 * a log that was already tampered with.
 */
export class CheckpointService {
  readonly #db: Kysely<Database>;
  readonly #key: () => Promise<KeyHandle>;
  readonly #clock: Clock;
  readonly #pageSize: number;

  constructor(opts: { db: Kysely<Database>; signingKey: KeyHandle | (() => Promise<KeyHandle>); clock?: Clock; pageSize?: number }) {
    this.#db = opts.db;
    const k = opts.signingKey;
    this.#key = typeof k === 'function' ? k : async () => k;
    this.#clock = opts.clock ?? systemClock;
    this.#pageSize = opts.pageSize ?? 2000;
  }

  /** The newest checkpoint, or undefined before the first one. */
  async latest(): Promise<Checkpoint | undefined> {
    const row = await this.#db.selectFrom('audit_checkpoint').selectAll().orderBy('tree_size', 'desc').limit(1).executeTakeFirst();
    return row && toCheckpoint(row);
  }

  /** Public key of the current signer: what a verifier should trust. */
  async publicKey(): Promise<KeyObject> {
    return (await this.#key()).publicKey;
  }

  /**
   * Signs a checkpoint over every entry appended so far; returns the latest one unchanged when no
   * entry was added since. Throws AUDIT_TAMPERED when the new entries do not chain.
   */
  async create(): Promise<Checkpoint | undefined> {
    const key = await this.#key();
    const prev = await this.#db.selectFrom('audit_checkpoint').selectAll().orderBy('tree_size', 'desc').limit(1).executeTakeFirst();
    const last = await this.#db.selectFrom('audit_entry').select('seq').orderBy('seq', 'desc').limit(1).executeTakeFirst();
    const target = last?.seq ?? 0;
    const fromSize = prev?.tree_size ?? 0;
    if (target <= fromSize) return prev && toCheckpoint(prev);

    let acc = new MerkleAccumulator();
    let checker = new ChainChecker();
    if (prev) {
      acc = MerkleAccumulator.deserialize(prev.tree_size, Buffer.from(prev.frontier));
      // The stored compact range is only a cache: it must reproduce the signed root.
      // After a key rotation the previous checkpoint is another key's: only the root can be checked.
      const sameKey = prev.key_id === keyIdOf(key.publicKey);
      if (!acc.root().equals(Buffer.from(prev.root_hash)) || (sameKey && !verifyCheckpointSignature(toCheckpoint(prev), key.publicKey))) {
        throw new AuditError('AUDIT_TAMPERED', `checkpoint ${prev.tree_size} does not verify`, { details: { seq: prev.tree_size, kind: 'checkpoint-root-mismatch' } });
      }
      const edge = await this.#db.selectFrom('audit_entry').select('hash').where('seq', '=', prev.tree_size).executeTakeFirst();
      if (!edge) throw new AuditError('AUDIT_TAMPERED', `entry ${prev.tree_size} is missing`, { details: { seq: prev.tree_size, kind: 'seq-gap' } });
      checker = new ChainChecker({ lastSeq: prev.tree_size, lastHash: Buffer.from(edge.hash) });
    }
    for await (const row of entryPages(this.#db, { afterSeq: fromSize, toSeq: target, pageSize: this.#pageSize })) {
      const problem = checker.check(row);
      if (problem) throw new AuditError('AUDIT_TAMPERED', describeProblem(problem), { details: { ...problem } });
      acc.pushEntry(Buffer.from(row.hash));
    }
    if (acc.size !== target) throw new AuditError('AUDIT_TAMPERED', `log ends at ${acc.size}, expected ${target}`, { details: { seq: acc.size + 1, kind: 'seq-gap' } });

    const cp = signCheckpoint(key, { treeSize: target, rootHash: acc.root(), at: this.#clock.nowMs() });
    const inserted = await this.#db.insertInto('audit_checkpoint').values({
      tree_size: cp.treeSize, root_hash: cp.rootHash, at: cp.at, signature: cp.signature, key_id: cp.keyId, algorithm: cp.algorithm, frontier: acc.serialize(),
    }).onConflict((oc) => oc.column('tree_size').doNothing()).executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 1) return cp;
    // Another node signed the same size first: theirs is the record.
    const theirs = await this.#db.selectFrom('audit_checkpoint').selectAll().where('tree_size', '=', target).executeTakeFirstOrThrow();
    return toCheckpoint(theirs);
  }

  /** The scheduled job for JobRunner: one checkpoint per interval when the log grew. */
  job(intervalMs: number): Job {
    return { name: CHECKPOINT_JOB, intervalMs, run: async () => void (await this.create()) };
  }
}

export function toCheckpoint(row: Selectable<AuditCheckpointTable>): Checkpoint {
  return { treeSize: row.tree_size, rootHash: Buffer.from(row.root_hash), at: row.at, signature: Buffer.from(row.signature), keyId: row.key_id, algorithm: row.algorithm };
}
