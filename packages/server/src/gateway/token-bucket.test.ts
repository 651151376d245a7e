import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '@medtrust/core';
import { TokenBuckets } from './token-bucket.ts';

describe('TokenBuckets', () => {
  it('allows a burst, then the sustained rate, per key', () => {
    const clock = new ManualClock(0);
    const b = new TokenBuckets({ ratePerS: 10, burst: 3, clock });
    assert.deepEqual([b.take('a'), b.take('a'), b.take('a')], [0, 0, 0]);
    assert.equal(b.take('a'), 100);
    assert.equal(b.take('b'), 0, 'another device is not affected');
    clock.advance(100);
    assert.equal(b.take('a'), 0);
    assert.ok(b.take('a') > 0);
    clock.advance(10_000);
    assert.deepEqual([b.take('a'), b.take('a'), b.take('a'), b.take('a') > 0], [0, 0, 0, true], 'refills up to the burst only');
  });
});
