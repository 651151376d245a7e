import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ThresholdTracker } from './threshold-tracker.ts';

const desat = { kind: 'threshold', metric: 'spo2', op: '<', value: 90, forMs: 30_000, hysteresis: 2 } as const;

function run(tracker: ThresholdTracker, samples: Array<[number, number]>): string[] {
  return samples.map(([atS, v]) => tracker.observe(v, atS * 1000)).filter((t) => t !== 'none');
}

describe('ThresholdTracker', () => {
  it('raises once after the breach has lasted forMs, and clears past the hysteresis band', () => {
    const t = new ThresholdTracker(desat);
    const out = run(t, [[0, 95], [10, 88], [20, 87], [35, 88], [41, 86], [50, 91], [60, 93], [70, 93], [95, 93]]);
    assert.deepEqual(out, ['raise', 'clear']);
  });

  describe('when the signal flaps around the threshold', () => {
    it('fires exactly once and does not clear inside the hysteresis band', () => {
      const t = new ThresholdTracker(desat);
      const samples: Array<[number, number]> = [[0, 89]];
      // 89/91 alternating every 5 s for 5 minutes: 91 is inside the band (clear needs >= 92).
      for (let s = 5; s <= 300; s += 5) samples.push([s, s % 10 === 0 ? 89 : 91]);
      // Before it has lasted 30 s, a sample at 91 ends the breach: so the flapping never raises...
      assert.deepEqual(run(new ThresholdTracker(desat), samples), []);
      // ...whereas a sustained breach that then flaps raises once and stays raised.
      const sustained: Array<[number, number]> = [[0, 85], [15, 85], [31, 85]];
      for (let s = 35; s <= 300; s += 5) sustained.push([s, s % 10 === 0 ? 89 : 91]);
      assert.deepEqual(run(t, sustained), ['raise']);
      assert.equal(t.active, true);
    });
  });

  it('ignores a sample older than the last one (late replays in order)', () => {
    const t = new ThresholdTracker({ ...desat, forMs: 0 });
    assert.equal(t.observe(80, 10_000), 'raise');
    assert.equal(t.observe(99, 5_000), 'none');
    assert.equal(t.active, true);
  });

  it('handles an upper threshold', () => {
    const t = new ThresholdTracker({ kind: 'threshold', metric: 'heart-rate', op: '>', value: 140, forMs: 0, hysteresis: 5 });
    assert.deepEqual(run(t, [[0, 150], [1, 138], [2, 134]]), ['raise', 'clear']);
  });
});
