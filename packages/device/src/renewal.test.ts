import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renewalDueAtMs } from './renewal.ts';

const DAY = 86_400_000;

describe('renewalDueAtMs', () => {
  describe('when no lead time is configured', () => {
    it('renews 30 days before expiry of a one-year LDevID', () => {
      assert.equal(renewalDueAtMs({ notBeforeMs: 0, notAfterMs: 365 * DAY, jitterRatio: 0 }), 335 * DAY);
    });
    it('renews a short-lived certificate with a third of its life left', () => {
      assert.equal(renewalDueAtMs({ notBeforeMs: 0, notAfterMs: 3 * DAY, jitterRatio: 0 }), 2 * DAY);
    });
  });
  describe('when a lead time is configured', () => {
    it('renews that long before expiry', () => {
      assert.equal(renewalDueAtMs({ notBeforeMs: 0, notAfterMs: 365 * DAY, renewBeforeMs: 7 * DAY, jitterRatio: 0 }), 358 * DAY);
    });
  });
  describe('with jitter', () => {
    it('comes at most jitterRatio of the lead time earlier, never later', () => {
      const lead = 30 * DAY;
      assert.equal(renewalDueAtMs({ notBeforeMs: 0, notAfterMs: 365 * DAY, random: () => 0 }), 365 * DAY - lead);
      assert.equal(renewalDueAtMs({ notBeforeMs: 0, notAfterMs: 365 * DAY, random: () => 0.999999 }), 365 * DAY - lead - Math.floor(lead * 0.1 * 0.999999));
      assert.equal(renewalDueAtMs({ notBeforeMs: 0, notAfterMs: 365 * DAY, jitterRatio: 0.5, random: () => 0.5 }), 365 * DAY - lead - lead / 4);
    });
  });
});
