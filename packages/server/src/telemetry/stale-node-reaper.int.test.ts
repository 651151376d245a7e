import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '@medtrust/core';
import { DbAuditLog } from '../audit/index.ts';
import { migrateToLatest } from '../db/index.ts';
import { createTestDatabase, TEST_DIALECTS, type TestDatabase } from '../db/testing.ts';
import { LocalEventBus } from '../events/index.ts';
import type { PlatformEvent } from '../events/platform-event.ts';
import { JobRunner } from '../jobs/index.ts';
import { createLogger } from '../logging/index.ts';
import { allMigrations } from '../migrations.ts';
import { PresenceService } from './presence-service.ts';
import { StaleNodeReaper } from './stale-node-reaper.ts';

const T0 = 1_790_000_000_000;
const MODEL = 'monitor-x';

for (const dialect of TEST_DIALECTS) {
  describe(`StaleNodeReaper (${dialect})`, () => {
    let t: TestDatabase;
    let clock: ManualClock;
    let a: PresenceService;
    let b: PresenceService;
    let reaper: StaleNodeReaper;
    const events: PlatformEvent[] = [];
    const ids: Record<string, number> = {};
    const conn = (p: PresenceService, deviceId: string): Promise<number> => p.connected({ deviceId, tenantId: 'ten_1', transport: 'mqtt', certSerial: `s-${deviceId}`, remoteAddress: '10.0.0.1' });
    const status = async (deviceId: string): Promise<string> => (await b.get(deviceId, MODEL)).status;
    const connection = (id: number) => t.db.selectFrom('device_connection').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

    before(async () => {
      t = await createTestDatabase(dialect);
      await migrateToLatest(t.db, dialect, allMigrations);
      clock = new ManualClock(T0);
      const bus = new LocalEventBus();
      bus.subscribe('presence.node-lost', (e) => void events.push(e));
      a = new PresenceService({ db: t.db, clock, node: 'node_a' });
      b = new PresenceService({ db: t.db, clock, node: 'node_b' });
      reaper = new StaleNodeReaper({ db: t.db, audit: new DbAuditLog({ db: t.db, dialect, clock }), events: bus, clock, staleAfterMs: 60_000 });
      await a.heartbeat();
      await b.heartbeat();
      ids.d1 = await conn(a, 'dev_1');
      ids.d2 = await conn(b, 'dev_2');
      ids.d3a = await conn(a, 'dev_3');
    });
    after(() => t.close());

    it('leaves devices of nodes that heartbeat alone', async () => {
      clock.advance(50_000);
      assert.deepEqual(await reaper.reap(), { nodes: [], devices: 0 });
      assert.equal(await status('dev_1'), 'online');
    });

    it('marks offline the devices of a node whose heartbeat is stale, closes its connections and audits each', async () => {
      // node_a crashes; dev_3 has already reconnected to node_b, dev_1 has not.
      clock.advance(1000);
      ids.d3b = await conn(b, 'dev_3');
      clock.advance(20_000);
      await b.heartbeat();
      const r = await reaper.reap();
      assert.deepEqual(r, { nodes: ['node_a'], devices: 1 });
      assert.equal(await status('dev_1'), 'offline');
      assert.equal(await status('dev_2'), 'online');
      assert.equal(await status('dev_3'), 'online');
      assert.equal((await connection(ids.d1!)).end_reason, 'node-lost');
      // The dead node's connection of dev_3 closes; its new connection on node_b stays open.
      assert.equal((await connection(ids.d3a!)).end_reason, 'node-lost');
      assert.equal((await connection(ids.d3b)).disconnected_at, null);
      assert.equal((await connection(ids.d2!)).disconnected_at, null);
      const audit = await t.db.selectFrom('audit_entry').select(['target', 'actor', 'details']).where('action', '=', 'presence.node-lost').execute();
      assert.deepEqual(audit.map((e) => e.target), ['device:dev_1']);
      assert.equal((JSON.parse(audit[0]!.details) as { node: string }).node, 'node_a');
      assert.deepEqual(events, [{ kind: 'presence.node-lost', node: 'node_a', devices: 1 }]);
    });

    it('does nothing more on the next run', async () => {
      assert.deepEqual(await reaper.reap(), { nodes: [], devices: 0 });
      assert.equal(events.length, 1);
    });

    it('re-asserts the devices of a node that was only paused when it heartbeats again', async () => {
      let reasserted = -1;
      a.onReasserted((n) => (reasserted = n));
      clock.advance(1000);
      await a.heartbeat();
      // dev_1 is still connected to node_a: online again, on the same history row.
      assert.equal(reasserted, 1);
      assert.equal(await status('dev_1'), 'online');
      const c = await connection(ids.d1!);
      assert.equal(c.disconnected_at, null);
      assert.equal(c.end_reason, null);
      // dev_3 moved to node_b meanwhile and stays there.
      const p3 = await t.db.selectFrom('device_presence').select('node').where('device_id', '=', 'dev_3').executeTakeFirstOrThrow();
      assert.equal(p3.node, 'node_b');
      // A later disconnect of dev_1 on node_a is recorded as usual.
      await a.disconnected(ids.d1!, 'dev_1', 'client-closed');
      assert.equal(await status('dev_1'), 'offline');
    });

    it('treats a node that stopped cleanly as gone, and rows with no node as stale', async () => {
      await b.stop();
      await t.db.insertInto('device_presence').values({ device_id: 'dev_old', tenant_id: 'ten_1', online: 1, last_seen_at: T0, connected_at: T0, disconnected_at: null, transport: 'mqtt', node: null }).execute();
      const r = await reaper.reap();
      assert.deepEqual(r.nodes, ['node_b']);
      assert.equal(r.devices, 3); // dev_2, dev_3 on node_b; dev_old
      assert.equal(await status('dev_old'), 'offline');
    });

    it('runs as a cluster job once per interval across nodes', async () => {
      const logger = createLogger({ level: 'silent' });
      const r1 = new JobRunner({ db: t.db, clock, holder: 'node_a', logger });
      const r2 = new JobRunner({ db: t.db, clock, holder: 'node_b', logger });
      r1.add(reaper.job(15_000));
      r2.add(reaper.job(15_000));
      const ran = [await r1.runOnce('telemetry.presence.stale-nodes'), await r2.runOnce('telemetry.presence.stale-nodes')];
      assert.deepEqual(ran, [true, false]);
    });
  });
}
