import { createHash } from 'node:crypto';

// Hand-written: RFC 9162 hashing is a few lines, and the streaming (compact range) form that lets
// a 1M-entry log be checkpointed in O(log n) memory is not offered by any installed library.

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

/** RFC 9162 §2.1.1: leaf hash = SHA-256(0x00 || leaf). The leaf is an audit entry's hash. */
export function leafHash(entryHash: Buffer): Buffer {
  return createHash('sha256').update(LEAF_PREFIX).update(entryHash).digest();
}

/** RFC 9162 §2.1.1: interior node = SHA-256(0x01 || left || right). */
export function nodeHash(left: Buffer, right: Buffer): Buffer {
  return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
}

/** RFC 9162 §2.1.1: the hash of an empty tree is SHA-256 of the empty string. */
export const EMPTY_TREE_ROOT = createHash('sha256').digest();

/**
 * Computes the RFC 9162 Merkle Tree Hash of leaves pushed one by one, keeping only the roots of
 * the perfect subtrees seen so far (at most log2(n) hashes): the "compact range" of [0, n).
 */
export class MerkleAccumulator {
  /** Roots of perfect subtrees, largest (leftmost) first; sizes are the set bits of `size`. */
  readonly #stack: Buffer[];
  #size: number;

  constructor(state?: { size: number; stack: readonly Buffer[] }) {
    this.#size = state?.size ?? 0;
    this.#stack = [...(state?.stack ?? [])];
    if (popCount(this.#size) !== this.#stack.length) throw new RangeError('compact range does not match its size');
  }

  get size(): number {
    return this.#size;
  }

  /** Adds a leaf given the audit entry hash (the leaf hash is computed here). */
  pushEntry(entryHash: Buffer): void {
    this.pushLeafHash(leafHash(entryHash));
  }

  pushLeafHash(h: Buffer): void {
    let node = h;
    // Merge equal-sized subtrees: one per trailing 1-bit of the old size.
    for (let s = this.#size; (s & 1) === 1; s >>= 1) node = nodeHash(this.#stack.pop() as Buffer, node);
    this.#stack.push(node);
    this.#size += 1;
  }

  /** RFC 9162 MTH(D[0:n]): the right-most subtrees fold into the larger ones on their left. */
  root(): Buffer {
    if (this.#stack.length === 0) return EMPTY_TREE_ROOT;
    let acc = this.#stack[this.#stack.length - 1] as Buffer;
    for (let i = this.#stack.length - 2; i >= 0; i--) acc = nodeHash(this.#stack[i] as Buffer, acc);
    return acc;
  }

  /** The compact range as bytes (concatenated 32-byte hashes) for storing beside a checkpoint. */
  serialize(): Buffer {
    return Buffer.concat(this.#stack);
  }

  static deserialize(size: number, bytes: Buffer): MerkleAccumulator {
    if (bytes.length % 32 !== 0) throw new RangeError('compact range length is not a multiple of 32');
    const stack: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 32) stack.push(Buffer.from(bytes.subarray(i, i + 32)));
    return new MerkleAccumulator({ size, stack });
  }
}

function popCount(n: number): number {
  let c = 0;
  for (let x = n; x > 0; x = Math.floor(x / 2)) c += x % 2;
  return c;
}

/** Largest power of two strictly smaller than n (n >= 2): RFC 9162 §2.1.1 split point k. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH over an in-memory list of entry hashes; for tests and small trees. */
export function merkleRoot(entryHashes: readonly Buffer[]): Buffer {
  const acc = new MerkleAccumulator();
  for (const h of entryHashes) acc.pushEntry(h);
  return acc.root();
}

/**
 * RFC 9162 §2.1.3.2: verifies that `entryHash` is leaf `leafIndex` of the tree of `treeSize`
 * leaves whose root is `rootHash`, given the audit path (inclusion proof).
 */
export function verifyInclusion(opts: { entryHash: Buffer; leafIndex: number; treeSize: number; auditPath: readonly Buffer[]; rootHash: Buffer }): boolean {
  const { leafIndex, treeSize, auditPath } = opts;
  if (!Number.isSafeInteger(leafIndex) || !Number.isSafeInteger(treeSize) || leafIndex < 0 || leafIndex >= treeSize) return false;
  let fn = leafIndex;
  let sn = treeSize - 1;
  let r = leafHash(opts.entryHash);
  for (const p of auditPath) {
    if (p.length !== 32 || sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      // Skip levels where the node is the right-most and has no sibling.
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.length === 32 && r.equals(opts.rootHash);
}

/** Reads the MTH of leaves [start, end) from wherever they live (a database range, a list). */
export type SubtreeRootReader = (start: number, end: number) => Promise<Buffer>;

/**
 * RFC 9162 §2.1.3.1: the audit path PATH(m, D[0:n]) for leaf m. Each sibling subtree root is
 * read once, so the whole log is read at most once and memory stays O(log n).
 */
export async function inclusionPath(m: number, n: number, readRoot: SubtreeRootReader): Promise<Buffer[]> {
  if (!Number.isSafeInteger(m) || m < 0 || m >= n) throw new RangeError(`leaf ${m} is outside a tree of ${n}`);
  const path: Buffer[] = [];
  let start = 0;
  let end = n;
  let index = m;
  // Walk from the root down; the RFC lists siblings leaf-first, so collect and reverse.
  while (end - start > 1) {
    const k = splitPoint(end - start);
    if (index < k) {
      path.push(await readRoot(start + k, end));
      end = start + k;
    } else {
      path.push(await readRoot(start, start + k));
      start += k;
      index -= k;
    }
  }
  return path.reverse();
}
