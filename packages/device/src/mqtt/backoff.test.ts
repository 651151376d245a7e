import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelayMs } from './backoff.ts';

describe('backoffDelayMs', () => {
  it('grows exponentially up to the cap, with full jitter', () => {
    const o = { baseMs: 100, maxMs: 5000 };
    assert.equal(backoffDelayMs(0, o, () => 0.999), 99);
    assert.equal(backoffDelayMs(3, o, () => 0.5), 400);
    assert.equal(backoffDelayMs(20, o, () => 0.999), 4995);
    assert.equal(backoffDelayMs(1000, o, () => 0), 0);
  });
});
