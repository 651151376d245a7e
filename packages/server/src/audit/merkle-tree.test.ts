import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { EMPTY_TREE_ROOT, inclusionPath, leafHash, MerkleAccumulator, merkleRoot, nodeHash, splitPoint, verifyInclusion } from './merkle-tree.ts';

const sha = (s: string): Buffer => createHash('sha256').update(s).digest();

/** RFC 9162 §2.1.1 MTH written as the recursive definition, as an independent reference. */
function referenceRoot(hashes: readonly Buffer[]): Buffer {
  if (hashes.length === 0) return createHash('sha256').digest();
  if (hashes.length === 1) return leafHash(hashes[0]!);
  const k = splitPoint(hashes.length);
  return nodeHash(referenceRoot(hashes.slice(0, k)), referenceRoot(hashes.slice(k)));
}

describe('merkle-tree', () => {
  const entries = Array.from({ length: 70 }, (_, i) => sha(`entry ${i}`));

  it('uses the RFC 9162 domain-separation prefixes', () => {
    const e = sha('x');
    assert.deepEqual(leafHash(e), createHash('sha256').update(Buffer.concat([Buffer.from([0]), e])).digest());
    assert.deepEqual(nodeHash(e, e), createHash('sha256').update(Buffer.concat([Buffer.from([1]), e, e])).digest());
    assert.deepEqual(merkleRoot([]), EMPTY_TREE_ROOT);
  });

  it('streams the same root as the recursive definition for every size up to 70', () => {
    for (let n = 0; n <= entries.length; n++) assert.deepEqual(merkleRoot(entries.slice(0, n)), referenceRoot(entries.slice(0, n)), `n=${n}`);
  });

  it('matches the RFC 6962 reference vectors of certificate-transparency-go', () => {
    // Leaves and roots from certificate-transparency-go merkletree test data (RFC 6962 hashing).
    const leaves = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map((h) => Buffer.from(h, 'hex'));
    const acc = new MerkleAccumulator();
    for (const l of leaves) acc.pushLeafHash(leafHash(l));
    assert.equal(acc.root().toString('hex'), '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328');
    const one = new MerkleAccumulator();
    one.pushLeafHash(leafHash(leaves[0]!));
    assert.equal(one.root().toString('hex'), '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d');
  });

  it('resumes from a serialised compact range', () => {
    const a = new MerkleAccumulator();
    entries.slice(0, 37).forEach((e) => a.pushEntry(e));
    const b = MerkleAccumulator.deserialize(a.size, a.serialize());
    entries.slice(37).forEach((e) => b.pushEntry(e));
    assert.deepEqual(b.root(), referenceRoot(entries));
    assert.throws(() => MerkleAccumulator.deserialize(5, Buffer.alloc(32)), RangeError);
  });

  it('builds audit paths that verify for every leaf, and refuses altered proofs', async () => {
    for (const n of [1, 2, 3, 7, 8, 9, 70]) {
      const hs = entries.slice(0, n);
      const root = referenceRoot(hs);
      const read = async (s: number, e: number): Promise<Buffer> => referenceRoot(hs.slice(s, e));
      for (let m = 0; m < n; m++) {
        const auditPath = await inclusionPath(m, n, read);
        assert.ok(verifyInclusion({ entryHash: hs[m]!, leafIndex: m, treeSize: n, auditPath, rootHash: root }), `n=${n} m=${m}`);
        assert.equal(verifyInclusion({ entryHash: sha('forged'), leafIndex: m, treeSize: n, auditPath, rootHash: root }), false);
        if (n > 1) {
          assert.equal(verifyInclusion({ entryHash: hs[m]!, leafIndex: (m + 1) % n, treeSize: n, auditPath, rootHash: root }), false);
          assert.equal(verifyInclusion({ entryHash: hs[m]!, leafIndex: m, treeSize: n, auditPath: auditPath.slice(1), rootHash: root }), false);
          assert.equal(verifyInclusion({ entryHash: hs[m]!, leafIndex: m, treeSize: n, auditPath: [...auditPath, sha('extra')], rootHash: root }), false);
        }
      }
    }
    assert.equal(verifyInclusion({ entryHash: entries[0]!, leafIndex: 3, treeSize: 3, auditPath: [], rootHash: EMPTY_TREE_ROOT }), false);
    await assert.rejects(inclusionPath(5, 5, async () => EMPTY_TREE_ROOT), RangeError);
  });
});
