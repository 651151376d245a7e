// The device SDK against the embedded broker: readings taken while the platform is unreachable
// wait in the on-disk queue, survive a restart of the device agent, and arrive in order once the
// broker is back; an outage mid-stream is bridged by reconnecting with backoff and jitter.
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { DeviceAgent, OfflineQueue } from '../../packages/device/src/index.ts';
import { DbAuditLog } from '../../packages/server/src/audit/index.ts';
import { migrateToLatest } from '../../packages/server/src/db/index.ts';
import { createTestDatabase, type TestDatabase } from '../../packages/server/src/db/testing.ts';
import { LocalEventBus } from '../../packages/server/src/events/index.ts';
import { DeviceGateway } from '../../packages/server/src/gateway/index.ts';
import { createOpensslTestPki, type OpensslTestPki, type TestDeviceCert } from '../../packages/server/src/gateway/testing/openssl-test-pki.ts';
import { TableCertificateStore, TableDeviceDirectory } from '../../packages/server/src/gateway/testing/table-identity.ts';
import { createLogger } from '../../packages/server/src/logging/index.ts';
import { allMigrations } from '../../packages/server/src/migrations.ts';
import { freePort } from './ports.ts';

async function until(f: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('device SDK: offline queue and reconnect', () => {
  let t: TestDatabase;
  let pki: OpensslTestPki;
  let dev: TestDeviceCert;
  let port: number;
  let gw: DeviceGateway | undefined;
  let agent: DeviceAgent | undefined;
  const vitals = (id: string, ts: number, hr = 70): object => ({ v: 1, id, ts, kind: 'vitals', vitals: { heartRate: { value: hr, unit: '/min' } } });
  const startGateway = async (): Promise<void> => {
    gw = await DeviceGateway.start({
      db: t.db, audit: new DbAuditLog({ db: t.db, dialect: 'sqlite' }), events: new LocalEventBus(), logger: createLogger({ level: 'silent' }), metrics: new Registry(), node: 'sdk',
      certificates: new TableCertificateStore(t.db), devices: new TableDeviceDirectory(t.db),
      mqtt: { bindHost: '127.0.0.1', port, tls: { key: pki.server.keyPem, cert: pki.server.chainPem, clientCas: [pki.operationalPem, pki.rootPem] } },
    });
  };
  const newAgent = (): DeviceAgent => new DeviceAgent({
    url: `mqtts://127.0.0.1:${port}`, queue: new OfflineQueue({ file: join(pki.dir, 'queue.jsonl') }), backoff: { baseMs: 100, maxMs: 400 },
    credentials: { deviceId: dev.deviceId, certPem: dev.certPem, keyPem: dev.keyPem, caPem: pki.rootPem },
  });
  const storedIds = async (): Promise<string[]> => (await t.db.selectFrom('telemetry_message').select('message_id').where('device_id', '=', dev.deviceId).orderBy('seq').execute()).map((r) => r.message_id);

  before(async () => {
    t = await createTestDatabase('sqlite');
    await migrateToLatest(t.db, 'sqlite', allMigrations);
    pki = await createOpensslTestPki(t.db);
    dev = await pki.enrolDevice({ deviceId: 'dev_sdk', tenantId: 'ten_sdk', state: 'active' });
    port = await freePort();
  });
  after(async () => {
    await agent?.stop();
    await gw?.stop();
    pki.close();
    await t.close();
  });

  it('keeps readings taken while the platform is down across an agent restart and delivers them in order', async () => {
    agent = newAgent();
    agent.start(); // nothing listens yet: connection refused, backoff
    const t0 = Date.now() - 60_000;
    for (let i = 0; i < 30; i++) agent.publish('telemetry', vitals(`s-${i}`, t0 + i * 1000));
    await new Promise((r) => setTimeout(r, 300));
    await agent.stop(); // the device restarts
    agent = newAgent();
    await startGateway();
    agent.start();
    await until(async () => (await storedIds()).length === 30);
    assert.deepEqual(await storedIds(), Array.from({ length: 30 }, (_, i) => `s-${i}`));
  });

  it('bridges a broker outage mid-stream by reconnecting, losing nothing', async () => {
    await until(() => agent!.connected);
    await gw!.stop();
    gw = undefined;
    const t0 = Date.now() - 30_000;
    for (let i = 0; i < 10; i++) agent!.publish('telemetry', vitals(`o-${i}`, t0 + i * 1000));
    await new Promise((r) => setTimeout(r, 500));
    await startGateway();
    await until(async () => (await storedIds()).filter((id) => id.startsWith('o-')).length === 10);
    assert.deepEqual((await storedIds()).filter((id) => id.startsWith('o-')), Array.from({ length: 10 }, (_, i) => `o-${i}`));
  });

  it('reports a refused reading through the errors topic and drops it from the queue', async () => {
    await until(() => agent!.connected);
    const refused = new Promise<{ code: string; messageId: string | null }>((r) => agent!.once('refused', r));
    agent!.publish('telemetry', vitals('bad-1', Date.now(), 900));
    const r = await refused;
    assert.deepEqual(r, { code: 'VALUE_OUT_OF_RANGE', messageId: 'bad-1' });
    await until(() => {
      const q = new OfflineQueue({ file: join(pki.dir, 'queue.jsonl') });
      const empty = q.size === 0;
      q.close();
      return empty;
    });
  });
});
