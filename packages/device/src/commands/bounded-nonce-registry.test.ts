import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BoundedNonceRegistry } from './bounded-nonce-registry.ts';

describe('BoundedNonceRegistry', () => {
  describe('when a nonce comes again', () => {
    it('refuses it while remembered', () => {
      const r = new BoundedNonceRegistry();
      assert.equal(r.remember('n1', 2000, 1000), true);
      assert.equal(r.remember('n1', 2000, 1000), false);
    });
  });
  describe('when the cache is full', () => {
    it('forgets expired nonces first and stays within its bound', () => {
      const r = new BoundedNonceRegistry({ maxEntries: 3 });
      for (const n of ['a', 'b', 'c']) assert.equal(r.remember(n, 1500, 1000), true);
      assert.equal(r.remember('d', 5000, 2000), true);
      assert.equal(r.size, 1);
    });
    it('evicts live nonces only behind a floor, so an evicted nonce still cannot be replayed', () => {
      const r = new BoundedNonceRegistry({ maxEntries: 2 });
      assert.equal(r.remember('a', 3000, 1000), true);
      assert.equal(r.remember('b', 4000, 1000), true);
      assert.equal(r.remember('c', 5000, 1000), true);
      assert.equal(r.size, 2);
      assert.equal(r.remember('a', 3000, 1000), false, 'evicted nonce replayed');
      assert.equal(r.remember('z', 2500, 1000), false, 'expires before the floor');
      assert.equal(r.remember('y', 6000, 1000), true);
    });
  });
  describe('when the device restarts', () => {
    it('keeps the nonces and the floor in its file', () => {
      const dir = mkdtempSync(join(tmpdir(), 'nonces-'));
      try {
        const file = join(dir, 'nonces.json');
        const r = new BoundedNonceRegistry({ maxEntries: 1, file });
        r.remember('a', 3000, 1000);
        r.remember('b', 4000, 1000);
        const again = new BoundedNonceRegistry({ maxEntries: 1, file });
        assert.equal(again.remember('b', 4000, 1000), false);
        assert.equal(again.remember('a', 3000, 1000), false);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
