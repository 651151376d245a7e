import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '@medtrust/core';
import { migrateToLatest } from '../db/index.ts';
import { createTestDatabase, TEST_DIALECTS, type TestDatabase } from '../db/testing.ts';
import { allMigrations } from '../migrations.ts';
import type { DeviceMessage } from './device-message.ts';
import { PresenceService } from './presence-service.ts';
import { TelemetryQuery } from './telemetry-query.ts';
import { TelemetryStore } from './telemetry-store.ts';

// Aligned to a minute: buckets are aligned to the epoch.
const T0 = 1_790_000_040_000;
const hr = (id: string, ts: number, value: number): DeviceMessage => ({ v: 1, id, ts, kind: 'vitals', vitals: { heartRate: { value, unit: '/min' }, spo2: { value: 97, unit: '%' } } });

for (const dialect of TEST_DIALECTS) {
  describe(`TelemetryStore (${dialect})`, () => {
    let t: TestDatabase;
    let commits: number[];
    let store: TelemetryStore;
    before(async () => {
      t = await createTestDatabase(dialect);
      await migrateToLatest(t.db, dialect, allMigrations);
      commits = [];
      store = new TelemetryStore({ db: t.db, clock: new ManualClock(T0), maxDelayMs: 5, onCommit: (n) => commits.push(n) });
    });
    after(() => t.close());

    it('stores concurrent submissions in few transactions and settles each after commit', async () => {
      const outcomes = await Promise.all(Array.from({ length: 300 }, (_, i) => store.submit({ deviceId: 'dev_a', tenantId: 'ten_1', transport: 'mqtt', message: hr(`m-${i}`, T0 + i * 1000, 60 + (i % 40)) })));
      assert.ok(outcomes.every((o) => o === 'stored'));
      assert.ok(commits.length <= 3, `expected group commit, got ${commits.length} transactions`);
      const n = await t.db.selectFrom('telemetry_message').select((eb) => eb.fn.countAll<number>().as('n')).where('device_id', '=', 'dev_a').executeTakeFirstOrThrow();
      assert.equal(Number(n.n), 300);
    });

    it('stores a repeated message id once, in the same batch and in a later one', async () => {
      const [a, b] = await Promise.all([
        store.submit({ deviceId: 'dev_b', tenantId: 'ten_1', transport: 'mqtt', message: hr('dup-1', T0, 70) }),
        store.submit({ deviceId: 'dev_b', tenantId: 'ten_1', transport: 'mqtt', message: hr('dup-1', T0, 71) }),
      ]);
      assert.deepEqual([a, b], ['stored', 'duplicate']);
      assert.equal(await store.submit({ deviceId: 'dev_b', tenantId: 'ten_1', transport: 'https', message: hr('dup-1', T0, 72) }), 'duplicate');
      // The same id from another device is a different message.
      assert.equal(await store.submit({ deviceId: 'dev_c', tenantId: 'ten_1', transport: 'mqtt', message: hr('dup-1', T0, 73) }), 'stored');
      const rows = await t.db.selectFrom('telemetry_sample').select('value').where('device_id', '=', 'dev_b').where('metric', '=', 'heart_rate').execute();
      assert.deepEqual(rows.map((r) => Number(r.value)), [70]);
    });

    it('accepts buffered readings late with their original timestamps, in device-time order', async () => {
      await store.submit({ deviceId: 'dev_d', tenantId: 'ten_1', transport: 'mqtt', message: hr('live-1', T0 + 60_000, 90) });
      for (let i = 0; i < 5; i++) await store.submit({ deviceId: 'dev_d', tenantId: 'ten_1', transport: 'mqtt', message: hr(`buf-${i}`, T0 + i * 10_000, 80 + i) });
      const q = new TelemetryQuery({ db: t.db });
      const msgs = await q.messages({ deviceId: 'dev_d', fromMs: T0, toMs: T0 + 120_000 });
      assert.deepEqual(msgs.map((m) => m.id), ['buf-0', 'buf-1', 'buf-2', 'buf-3', 'buf-4', 'live-1']);
      assert.equal(msgs[0]?.ts, T0);
    });

    it('downsamples a series into avg/min/max buckets and refuses bad ranges', async () => {
      const q = new TelemetryQuery({ db: t.db });
      const raw = await q.series({ deviceId: 'dev_a', metric: 'heart_rate', fromMs: T0, toMs: T0 + 9_000 });
      assert.equal(raw.length, 10);
      const buckets = await q.series({ deviceId: 'dev_a', metric: 'heart_rate', fromMs: T0, toMs: T0 + 299_000, bucketMs: 60_000 });
      assert.equal(buckets.length, 5);
      const first = buckets[0];
      assert.ok(first?.kind === 'bucket');
      // i = 0..59 -> 60 + (i % 40): min 60, max 99, count 60.
      assert.equal(first.min, 60);
      assert.equal(first.max, 99);
      assert.equal(first.count, 60);
      const expectedAvg = Array.from({ length: 60 }, (_, i) => 60 + (i % 40)).reduce((a, b) => a + b, 0) / 60;
      assert.ok(Math.abs(first.avg - expectedAvg) < 1e-9);
      await assert.rejects(q.series({ deviceId: 'dev_a', metric: 'nope', fromMs: T0, toMs: T0 + 1 }), { code: 'TELEMETRY_RANGE_INVALID' });
      await assert.rejects(q.series({ deviceId: 'dev_a', metric: 'spo2', fromMs: T0 + 1, toMs: T0 }), { code: 'TELEMETRY_RANGE_INVALID' });
      await assert.rejects(q.series({ deviceId: 'dev_a', metric: 'spo2', fromMs: 0, toMs: T0, bucketMs: 1000 }), { code: 'TELEMETRY_RANGE_INVALID' });
    });

    it('rejects every waiting submission with INGEST_UNAVAILABLE when the commit fails, storing none', async () => {
      const broken = new TelemetryStore({ db: t.db, maxDelayMs: 1 });
      const tooLong = { ...hr('x', T0, 60), id: 'y'.repeat(10) } as DeviceMessage;
      // A NULL tenant violates NOT NULL: the whole transaction rolls back.
      const results = await Promise.allSettled([
        broken.submit({ deviceId: 'dev_e', tenantId: 'ten_1', transport: 'mqtt', message: tooLong }),
        broken.submit({ deviceId: 'dev_e', tenantId: null as unknown as string, transport: 'mqtt', message: hr('z', T0, 60) }),
      ]);
      for (const r of results) {
        assert.equal(r.status, 'rejected');
        assert.equal((r.reason as { code: string }).code, 'INGEST_UNAVAILABLE');
      }
      const n = await t.db.selectFrom('telemetry_message').select('seq').where('device_id', '=', 'dev_e').execute();
      assert.equal(n.length, 0);
    });
  });

  describe(`PresenceService (${dialect})`, () => {
    let t: TestDatabase;
    before(async () => {
      t = await createTestDatabase(dialect);
      await migrateToLatest(t.db, dialect, allMigrations);
    });
    after(() => t.close());

    it('tracks online, late, offline and the connection history', async () => {
      const clock = new ManualClock(T0);
      const p = new PresenceService({ db: t.db, clock, node: 'node_1' });
      assert.equal((await p.get('dev_p', 'pump-x')).status, 'never-seen');
      await p.setHeartbeatInterval('pump-x', 10_000);
      const c1 = await p.connected({ deviceId: 'dev_p', tenantId: 'ten_1', transport: 'mqtt', certSerial: 'ab', remoteAddress: '127.0.0.1' });
      assert.equal((await p.get('dev_p', 'pump-x')).status, 'online');
      clock.advance(25_000);
      assert.equal((await p.get('dev_p', 'pump-x')).status, 'late');
      p.seen('dev_p');
      await p.flush();
      assert.equal((await p.get('dev_p', 'pump-x')).status, 'online');
      clock.advance(1000);
      await p.disconnected(c1, 'dev_p', 'revoked');
      const pr = await p.get('dev_p', 'pump-x');
      assert.equal(pr.status, 'offline');
      assert.equal(pr.lastSeenAt, T0 + 26_000);
      const h = await p.history('dev_p');
      assert.equal(h.length, 1);
      assert.equal(h[0]?.endReason, 'revoked');
      assert.equal(h[0]?.disconnectedAt, T0 + 26_000);
    });
  });
}
