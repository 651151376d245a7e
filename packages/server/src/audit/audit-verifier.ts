import type { KeyObject } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../db/index.ts';
import { type AuditProblem, ChainChecker } from './chain-checker.ts';
import { type Checkpoint, keyIdOf, verifyCheckpointSignature } from './checkpoint-note.ts';
import { toCheckpoint } from './checkpoint-service.ts';
import { entryPages } from './entry-pages.ts';
import { MerkleAccumulator } from './merkle-tree.ts';

export type VerifyReport =
  | { readonly ok: true; readonly entries: number; readonly checkpoints: number; readonly latestCheckpoint: number | null }
  | { readonly ok: false; readonly entries: number; readonly checkpoints: number; readonly problem: AuditProblem };

/**
 * Verifies the whole audit log in one streaming pass: the hash chain entry by entry, and every
 * signed checkpoint (signature by a trusted key, then Merkle root) when the pass reaches its size.
 * Stops at the first problem.
 */
export async function verifyAuditLog(opts: { db: Kysely<Database>; trustedKeys: readonly KeyObject[] | (() => Promise<readonly KeyObject[]>); pageSize?: number }): Promise<VerifyReport> {
  const keys = opts.trustedKeys;
  // Loaded at the first checkpoint: opening the key store can cost a master-key derivation.
  let trusted: Map<string, KeyObject> | undefined;
  const trustedMap = async (): Promise<Map<string, KeyObject>> => (trusted ??= new Map((typeof keys === 'function' ? await keys() : keys).map((k) => [keyIdOf(k), k] as const)));
  const checkpoints = checkpointCursor(opts.db);
  const checker = new ChainChecker();
  const acc = new MerkleAccumulator();
  let verified = 0;
  let latestVerified: number | null = null;
  let next = await checkpoints.next();
  const fail = (problem: AuditProblem): VerifyReport => ({ ok: false, entries: checker.lastSeq, checkpoints: verified, problem });

  const checkCheckpoint = async (cp: Checkpoint): Promise<AuditProblem | undefined> => {
    const key = (await trustedMap()).get(cp.keyId);
    if (!key) return { kind: 'checkpoint-key-unknown', seq: cp.treeSize, keyId: cp.keyId };
    if (!verifyCheckpointSignature(cp, key)) return { kind: 'checkpoint-signature-invalid', seq: cp.treeSize };
    if (!acc.root().equals(cp.rootHash)) return { kind: 'checkpoint-root-mismatch', seq: cp.treeSize };
    return undefined;
  };

  // A checkpoint of size 0 would be meaningless; the service never writes one.
  for await (const row of entryPages(opts.db, { pageSize: opts.pageSize })) {
    const problem = checker.check(row);
    if (problem) return fail(problem);
    acc.pushEntry(Buffer.from(row.hash));
    while (next && next.treeSize === acc.size) {
      const p = await checkCheckpoint(next);
      if (p) return fail(p);
      verified += 1;
      latestVerified = next.treeSize;
      next = await checkpoints.next();
    }
  }
  if (next) return fail({ kind: 'checkpoint-beyond-end', seq: acc.size + 1, treeSize: next.treeSize });
  return { ok: true, entries: acc.size, checkpoints: verified, latestCheckpoint: latestVerified };
}

/** Reads checkpoints in tree-size order a page at a time. */
function checkpointCursor(db: Kysely<Database>): { next(): Promise<Checkpoint | undefined> } {
  let buffer: Checkpoint[] = [];
  let after = 0;
  let done = false;
  return {
    async next() {
      if (buffer.length === 0 && !done) {
        const rows = await db.selectFrom('audit_checkpoint').select(['tree_size', 'root_hash', 'at', 'signature', 'key_id', 'algorithm'])
          .where('tree_size', '>', after).orderBy('tree_size').limit(500).execute();
        buffer = rows.map((r) => toCheckpoint({ ...r, frontier: Buffer.alloc(0) }));
        if (rows.length < 500) done = true;
        after = rows.at(-1)?.tree_size ?? after;
      }
      return buffer.shift();
    },
  };
}
