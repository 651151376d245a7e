import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { OfflineQueue } from './offline-queue.ts';

describe('OfflineQueue', () => {
  const dir = mkdtempSync(join(tmpdir(), 'medtrust-queue-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('survives a restart with unacknowledged messages in order, and continues the sequence', () => {
    const file = join(dir, 'q1.jsonl');
    const q = new OfflineQueue({ file });
    for (let i = 0; i < 5; i++) q.enqueue('devices/d/telemetry', `m${i}`);
    q.ack(1);
    q.ack(3);
    q.close();
    const q2 = new OfflineQueue({ file });
    assert.deepEqual(q2.pending().map((m) => m.payload), ['m1', 'm3', 'm4']);
    assert.equal(q2.enqueue('devices/d/telemetry', 'm5').seq, 6);
    q2.close();
  });

  it('ignores a torn last line from a crash mid-write', () => {
    const file = join(dir, 'q2.jsonl');
    const q = new OfflineQueue({ file });
    q.enqueue('t', 'a');
    q.close();
    appendFileSync(file, '{"k":"m","s":2,"t":"t","p":"b');
    const q2 = new OfflineQueue({ file });
    assert.deepEqual(q2.pending().map((m) => m.payload), ['a']);
    q2.close();
  });

  it('compacts once most of the journal is acknowledged, keeping the pending ones', () => {
    const file = join(dir, 'q3.jsonl');
    const q = new OfflineQueue({ file, fsync: false });
    for (let i = 0; i < 1500; i++) q.enqueue('t', `p${i}`);
    for (let i = 1; i <= 1490; i++) q.ack(i);
    q.close();
    // Uncompacted it would hold 2,990 lines (~75 KB).
    assert.ok(statSync(file).size < 25_000, `journal is ${statSync(file).size} bytes`);
    const q2 = new OfflineQueue({ file });
    assert.deepEqual(q2.pending().map((m) => m.payload), Array.from({ length: 10 }, (_, i) => `p${1490 + i}`));
    q2.close();
  });
});
