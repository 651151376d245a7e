// Outages as tests. (1) The platform is unreachable (a hospital network locked down): devices on
// the device SDK keep measuring into their on-disk offline queue, one even reboots, and when the
// platform is back they replay; everything is stored with its original device timestamps, in
// order, and the desaturation alert is computed on arrival from device time (SpO2 < 90 for 30 s).
// The outage is seconds of wall time covering minutes of device time: same mechanism, shorter run.
// (2) A throwaway PostgreSQL cluster is crashed and restarted (pg_ctl -m immediate) while a device
// streams QoS 1 telemetry: nothing the platform acknowledged is lost.
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DeviceAgent, OfflineQueue } from '../../packages/device/src/index.ts';
import { createTestDatabase, TEST_DIALECTS, type TestDatabase } from '../../packages/server/src/db/testing.ts';
import { loadConfig, Platform } from '../../packages/server/src/index.ts';
import { createLogger } from '../../packages/server/src/logging/index.ts';
import { eventually, freePort, makeDevices, type TestDevice } from './scale-out-harness.ts';

const logger = createLogger({ level: 'silent' });

async function openPlatform(env: Record<string, string>): Promise<Platform> {
  const p = await Platform.open({ config: loadConfig(env), logger });
  await p.start();
  return p;
}

function agentFor(d: TestDevice, caPem: string, mqttPort: number, queueFile: string): { agent: DeviceAgent; queue: OfflineQueue } {
  const queue = new OfflineQueue({ file: queueFile, fsync: false });
  const agent = new DeviceAgent({ url: `mqtts://127.0.0.1:${mqttPort}`, credentials: { deviceId: d.id, certPem: d.certPem, keyPem: d.keyPem, caPem }, queue, backoff: { baseMs: 100, maxMs: 500 } });
  return { agent, queue };
}

for (const dialect of TEST_DIALECTS) {
  describe(`outage: the platform unreachable, devices buffer and replay (${dialect})`, () => {
    let t: TestDatabase;
    let dir: string;
    let env: Record<string, string>;
    let platform: Platform | undefined;
    let devices: TestDevice[];
    let caPem: string;
    let tenantId: string;

    before(async () => {
      t = await createTestDatabase(dialect);
      dir = mkdtempSync(join(tmpdir(), 'medtrust-outage-'));
      env = {
        ...process.env as Record<string, string>, MEDTRUST_DATA_DIR: join(dir, 'data'), MEDTRUST_HTTP_PORT: '0', MEDTRUST_HTTPS_PORT: '0', MEDTRUST_MQTT_PORT: String(await freePort()),
        MEDTRUST_MASTER_KEY: 'outage-test-master-key-0123', MEDTRUST_LOG_LEVEL: 'silent', ...(t.url ? { MEDTRUST_DATABASE_URL: t.url } : {}),
      };
      const p = await Platform.open({ config: loadConfig(env), logger });
      try {
        tenantId = (await p.init()).operatorTenantId;
        devices = await makeDevices(p, tenantId, dir, ['OUT-1', 'OUT-2']);
        caPem = (await p.services.cas.get('root')).certificatePem;
        await p.services.clinical.alertRules.create(tenantId, { name: 'Desaturation', priority: 'high', enabled: true, scope: {}, condition: { kind: 'threshold', metric: 'spo2', op: '<', value: 90, forMs: 30_000, hysteresis: 2 }, escalateAfterMs: 600_000, escalationRoles: ['clinician'] }, 'test');
      } finally {
        await p.stop();
      }
    });
    after(async () => {
      await platform?.stop();
      rmSync(dir, { recursive: true, force: true });
      await t.close();
    });

    it('stores every buffered reading with its device time, in order, and raises the alert on device time', async () => {
      platform = await openPlatform(env);
      const port = Number(env.MEDTRUST_MQTT_PORT);
      const [monitor, second] = devices as [TestDevice, TestDevice];
      let a = agentFor(monitor, caPem, port, join(dir, 'monitor.queue'));
      const b = agentFor(second, caPem, port, join(dir, 'second.queue'));
      a.agent.start();
      b.agent.start();
      // Device time: one reading a second, starting three minutes ago; readings 20-59 desaturate.
      const t0 = Date.now() - 180_000;
      const spo2 = (k: number): number => (k >= 20 && k < 60 ? 85 : 97);
      const reading = (k: number, serial: string): object => ({ v: 1, id: `${serial}-${k}`, ts: t0 + k * 1000, kind: 'vitals', vitals: { spo2: { value: spo2(k), unit: '%' }, heartRate: { value: 70, unit: '/min' } } });
      for (let k = 0; k < 10; k++) {
        a.agent.publish('telemetry', reading(k, 'OUT-1'));
        b.agent.publish('telemetry', reading(k, 'OUT-2'));
      }
      assert.ok(await eventually(() => a.queue.size === 0 && b.queue.size === 0, 20_000), 'online readings acknowledged');

      // The platform goes away. Devices keep measuring; the monitor reboots halfway.
      await platform.stop();
      platform = undefined;
      const outageStart = Date.now();
      for (let k = 10; k < 40; k++) {
        a.agent.publish('telemetry', reading(k, 'OUT-1'));
        b.agent.publish('telemetry', reading(k, 'OUT-2'));
      }
      await a.agent.stop();
      a.queue.close();
      a = agentFor(monitor, caPem, port, join(dir, 'monitor.queue'));
      assert.equal(a.queue.size, 30, 'the rebooted monitor still holds its 30 unacknowledged readings');
      a.agent.start();
      for (let k = 40; k < 90; k++) {
        a.agent.publish('telemetry', reading(k, 'OUT-1'));
        b.agent.publish('telemetry', reading(k, 'OUT-2'));
      }
      await new Promise((r) => setTimeout(r, 3000));
      assert.equal(a.queue.size, 80);
      assert.equal(b.queue.size, 80);

      // The platform comes back: the devices reconnect (backoff with jitter) and replay.
      const back = Date.now();
      platform = await openPlatform(env);
      const queued = (): number => a.queue.size + b.queue.size;
      assert.ok(await eventually(() => queued() === 0, 30_000), `replayed: ${queued()} still queued`);
      const db = platform.services.db;
      for (const serial of ['OUT-1', 'OUT-2']) {
        const rows = await db.selectFrom('telemetry_message').select(['message_id', 'device_ts', 'received_at']).where('message_id', 'like', `${serial}-%`).orderBy('seq').execute();
        assert.equal(rows.length, 90, `${serial}: ${rows.length} of 90 stored`);
        assert.deepEqual(rows.map((r) => r.message_id), Array.from({ length: 90 }, (_, k) => `${serial}-${k}`), `${serial}: stored in device order`);
        for (const [k, r] of rows.entries()) assert.equal(Number(r.device_ts), t0 + k * 1000, 'original device timestamp');
        assert.ok(rows.slice(10).every((r) => Number(r.received_at) >= back), 'buffered readings arrived after the platform came back');
      }
      // SpO2 < 90 from device second 20: the alert belongs at second 50 of device time, not at arrival.
      // Evaluation follows the commit (asynchronously, one message at a time per device).
      const allAlerts = () => db.selectFrom('alert').select(['device_id', 'raised_at', 'received_at', 'details']).where('tenant_id', '=', tenantId).execute();
      await eventually(async () => new Set((await allAlerts()).map((x) => x.device_id)).size >= 2, 20_000, 200);
      await new Promise((r) => setTimeout(r, 500));
      const alerts = await allAlerts();
      for (const d of [monitor, second]) {
        const mine = alerts.filter((x) => x.device_id === d.id);
        assert.equal(mine.length, 1, `one desaturation alert for ${d.id}`);
        assert.equal(Number(mine[0]!.raised_at), t0 + 50_000);
        assert.ok(Number(mine[0]!.received_at) >= back && Number(mine[0]!.received_at) > outageStart);
        assert.equal((JSON.parse(mine[0]!.details) as { rule: string }).rule, 'Desaturation');
      }
      await a.agent.stop();
      await b.agent.stop();
    });
  });
}

/** A PostgreSQL cluster of our own on a free port (never the shared one on 5432). */
class ThrowawayPostgres {
  readonly dir: string;
  readonly port: number;
  readonly #bin: string;
  readonly #asUser: string[];

  private constructor(dir: string, port: number, bin: string, asUser: string[]) {
    this.dir = dir;
    this.port = port;
    this.#bin = bin;
    this.#asUser = asUser;
  }

  static async create(): Promise<ThrowawayPostgres> {
    const version = readdirSync('/usr/lib/postgresql').sort((x, y) => Number(y) - Number(x))[0]!;
    const bin = `/usr/lib/postgresql/${version}/bin`;
    const dir = mkdtempSync(join(tmpdir(), 'medtrust-pg-'));
    // initdb refuses to run as root.
    const asUser = userInfo().uid === 0 ? ['runuser', '-u', 'postgres', '--'] : [];
    if (asUser.length > 0) chownSync(dir, Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })));
    const pg = new ThrowawayPostgres(dir, await freePort(), bin, asUser);
    pg.#run('initdb', ['-D', join(dir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync']);
    pg.start();
    return pg;
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  start(): void {
    this.#run('pg_ctl', ['-D', join(this.dir, 'data'), '-l', join(this.dir, 'log'), '-w', '-o', `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=on`, 'start']);
  }

  /** A crash: no shutdown checkpoint, WAL recovery on the next start. */
  crash(): void {
    this.#run('pg_ctl', ['-D', join(this.dir, 'data'), '-m', 'immediate', '-w', 'stop']);
  }

  destroy(): void {
    try {
      this.crash();
    } catch {
      // already stopped
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  #run(tool: string, args: string[]): void {
    const [cmd, ...rest] = [...this.#asUser, join(this.#bin, tool), ...args];
    execFileSync(cmd!, rest, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000 });
  }
}

describe('outage: PostgreSQL crashes and restarts during ingest', () => {
  let pg: ThrowawayPostgres;
  let dir: string;
  let env: Record<string, string>;
  let platform: Platform | undefined;
  let device: TestDevice;
  let caPem: string;

  before(async () => {
    pg = await ThrowawayPostgres.create();
    dir = mkdtempSync(join(tmpdir(), 'medtrust-pgout-'));
    env = {
      ...process.env as Record<string, string>, MEDTRUST_DATA_DIR: join(dir, 'data'), MEDTRUST_HTTP_PORT: '0', MEDTRUST_HTTPS_PORT: '0', MEDTRUST_MQTT_PORT: String(await freePort()),
      MEDTRUST_MASTER_KEY: 'pg-outage-test-master-key-01', MEDTRUST_LOG_LEVEL: 'silent', MEDTRUST_DATABASE_URL: pg.url,
    };
    platform = await openPlatform(env);
    const tenantId = (await platform.init()).operatorTenantId;
    [device] = await makeDevices(platform, tenantId, dir, ['PGO-1']) as [TestDevice];
    caPem = (await platform.services.cas.get('root')).certificatePem;
  });
  after(async () => {
    await platform?.stop();
    pg?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loses nothing the platform acknowledged across the crash', async () => {
    const { agent, queue } = agentFor(device, caPem, Number(env.MEDTRUST_MQTT_PORT), join(dir, 'pgo.queue'));
    const acked: number[] = [];
    const ack = queue.ack.bind(queue);
    queue.ack = (seq: number): void => {
      acked.push(seq);
      ack(seq);
    };
    agent.start();
    let k = 0;
    const produce = setInterval(() => {
      for (let i = 0; i < 5; i++, k++) agent.publish('telemetry', { v: 1, id: `pgo-${k}`, ts: Date.now(), kind: 'vitals', vitals: { heartRate: { value: 60 + (k % 40), unit: '/min' } } });
    }, 20);
    try {
      assert.ok(await eventually(() => acked.length >= 200, 20_000), 'streaming before the crash');
      const ackedAtCrash = acked.length;
      pg.crash();
      await new Promise((r) => setTimeout(r, 1500));
      const ackedWhileDown = acked.length - ackedAtCrash;
      pg.start();
      assert.ok(await eventually(() => acked.length >= ackedAtCrash + ackedWhileDown + 200, 30_000), 'streaming again after the restart');
      console.log(`acked ${ackedAtCrash} before the crash, ${ackedWhileDown} while PostgreSQL was down (in flight at the crash)`);
    } finally {
      clearInterval(produce);
    }
    assert.ok(await eventually(() => queue.size === 0, 30_000), `${queue.size} still queued`);
    await agent.stop();
    const stored = new Set((await platform!.services.db.selectFrom('telemetry_message').select('message_id').where('device_id', '=', device.id).execute()).map((r) => r.message_id));
    const missing = Array.from({ length: k }, (_, i) => `pgo-${i}`).filter((id) => !stored.has(id));
    // The device dropped from its queue only what was PUBACKed; every one of those must be stored.
    assert.deepEqual(missing, [], `${missing.length} of ${k} readings missing`);
  });
});
