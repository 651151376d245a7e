import { entryHash, GENESIS_HASH } from './audit-log.ts';
import type { AuditEntryRow } from './entry-pages.ts';

/** What `medtrust audit verify` can find wrong, at the first entry (or checkpoint) where it shows. */
export type AuditProblem =
  /** Entries from `seq` up to `nextFound - 1` are missing: deleted. */
  | { readonly kind: 'seq-gap'; readonly seq: number; readonly nextFound: number }
  /** The entry does not link to the one before: reordered, inserted, or the previous entry rewritten. */
  | { readonly kind: 'prev-hash-mismatch'; readonly seq: number }
  /** The entry's fields no longer give its stored hash: edited. */
  | { readonly kind: 'hash-mismatch'; readonly seq: number }
  /** The signed checkpoint over entries 1..seq has another root than the entries give: rewritten. */
  | { readonly kind: 'checkpoint-root-mismatch'; readonly seq: number }
  | { readonly kind: 'checkpoint-signature-invalid'; readonly seq: number }
  | { readonly kind: 'checkpoint-key-unknown'; readonly seq: number; readonly keyId: string }
  /** A checkpoint covers more entries than exist: entries at the end were deleted. */
  | { readonly kind: 'checkpoint-beyond-end'; readonly seq: number; readonly treeSize: number };

/** One line for a person: what is wrong and what it means. */
export function describeProblem(p: AuditProblem): string {
  switch (p.kind) {
    case 'seq-gap':
      return `entry ${p.seq} is missing (next entry found is ${p.nextFound}): deleted`;
    case 'prev-hash-mismatch':
      return `entry ${p.seq} does not link to entry ${p.seq - 1} (prev_hash mismatch): reordered, inserted, or entry ${p.seq - 1} rewritten`;
    case 'hash-mismatch':
      return `entry ${p.seq} does not match its hash: edited`;
    case 'checkpoint-root-mismatch':
      return `the signed checkpoint over entries 1..${p.seq} has a different Merkle root: entries rewritten`;
    case 'checkpoint-signature-invalid':
      return `the checkpoint over entries 1..${p.seq} has a bad signature: checkpoint forged or altered`;
    case 'checkpoint-key-unknown':
      return `the checkpoint over entries 1..${p.seq} is signed by key ${p.keyId}, which is not trusted`;
    case 'checkpoint-beyond-end':
      return `a signed checkpoint covers ${p.treeSize} entries but the log ends at ${p.seq - 1}: entries deleted from the end`;
    default:
      return p satisfies never;
  }
}

/**
 * Checks entries fed in seq order against the chain rules: seq without gaps from 1, prev_hash
 * equal to the previous entry's hash, and hash equal to the recomputed entry hash.
 */
export class ChainChecker {
  #expectedSeq: number;
  #prev: Buffer;

  constructor(start?: { lastSeq: number; lastHash: Buffer }) {
    this.#expectedSeq = (start?.lastSeq ?? 0) + 1;
    this.#prev = start?.lastHash ?? GENESIS_HASH;
  }

  /** Returns the first problem this entry shows, or undefined when it chains correctly. */
  check(row: AuditEntryRow): AuditProblem | undefined {
    if (row.seq !== this.#expectedSeq) {
      if (row.seq > this.#expectedSeq) return { kind: 'seq-gap', seq: this.#expectedSeq, nextFound: row.seq };
      return { kind: 'prev-hash-mismatch', seq: row.seq };
    }
    const prevHash = Buffer.from(row.prev_hash);
    // Link first: a moved entry also fails its own hash (seq is hashed), but "reordered" is the truth.
    if (!prevHash.equals(this.#prev)) return { kind: 'prev-hash-mismatch', seq: row.seq };
    const stored = Buffer.from(row.hash);
    if (!entryHash(prevHash, row).equals(stored)) return { kind: 'hash-mismatch', seq: row.seq };
    this.#prev = stored;
    this.#expectedSeq += 1;
    return undefined;
  }

  get lastSeq(): number {
    return this.#expectedSeq - 1;
  }
}
