// `medtrust simulate` against the running platform: devices factory-provisioned, enrolled over
// EST with their IDevIDs, reporting over mTLS MQTT; a network outage buffers readings on the
// device and they arrive afterwards with their original timestamps, nothing lost.
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { simProfile } from '../../packages/device/src/sim/index.ts';
import { main } from '../../packages/cli/src/main.ts';
import type { Output } from '../../packages/cli/src/output.ts';
import { readBundles } from '../../packages/cli/src/sim/fleet-bundles.ts';
import { drain, startSimulation } from '../../packages/cli/src/sim/run-simulation.ts';
import { loadConfig, Platform, type Listening } from '../../packages/server/src/index.ts';
import { createLogger } from '../../packages/server/src/logging/index.ts';

const capture = (): Output & { lines: string[]; errors: string[] } => {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (l) => void lines.push(l), err: (l) => void errors.push(l), isTty: false };
};

describe('medtrust simulate', () => {
  let dir: string;
  let env: Record<string, string>;
  let p: Platform;
  let listening: Listening;
  let estUrl: string;
  const fleetDir = (): string => join(dir, 'fleet');

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'medtrust-sim-'));
    env = { MEDTRUST_DATA_DIR: join(dir, 'data'), MEDTRUST_HTTP_PORT: '0', MEDTRUST_HTTPS_PORT: '0', MEDTRUST_MQTT_PORT: '0', MEDTRUST_MASTER_KEY: 'sim-test-master-key-0123456789', MEDTRUST_LOG_LEVEL: 'silent' };
    p = await Platform.open({ config: loadConfig(env), logger: createLogger({ level: 'silent' }) });
    listening = await p.start();
    // The listener's certificate names localhost (and 127.0.0.1); devices use the name.
    estUrl = listening.httpsUrl.replace('127.0.0.1', 'localhost');
  });
  after(async () => {
    await p?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const stored = (deviceId: string) => p.services.db.selectFrom('telemetry_message').select(['message_id', 'device_ts', 'received_at', 'kind']).where('device_id', '=', deviceId).orderBy('device_ts').execute();

  it('refuses bad options with a code, before touching anything', async () => {
    for (const bad of [['--profile', 'mars'], ['--devices', '0'], ['--duration', 'soon'], ['--outage', '10s'], ['--event', 'hiccups@1s'], ['--enrol', 'password']]) {
      const o = capture();
      assert.equal(await main(['node', 'medtrust', 'simulate', ...bad, '--url', estUrl, '--mqtt-url', listening.mqttUrl!], env, o), 2, bad.join(' '));
      assert.match(o.errors.join('\n'), /REQUEST_INVALID/);
    }
    assert.deepEqual(await p.services.devices.list({ limit: 10 }), []);
  });

  it('provisions 5 devices, enrols them over EST with their IDevIDs, and stores their telemetry (quiet when piped)', async () => {
    const o = capture();
    const code = await main(['node', 'medtrust', 'simulate', '--devices', '5', '--profile', 'icu', '--seed', '7', '--duration', '4s', '--backfill', '2m',
      '--fleet-dir', fleetDir(), '--url', estUrl, '--mqtt-url', listening.mqttUrl!], env, o);
    assert.equal(code, 0, o.errors.join('\n'));
    assert.equal(o.lines.length, 1, o.lines.join('\n'));
    assert.match(o.lines[0]!, /^simulated 5 devices \(profile icu, seed 7\).*enrolled 5, readings \d+, acknowledged \d+, queued 0, refused 0/);
    const s = p.services;
    const bundles = readBundles(fleetDir());
    assert.equal(bundles.length, 5);
    const models = new Set<string>();
    for (const b of bundles) {
      const d = await s.devices.get(b.id);
      models.add(d.model);
      assert.equal(d.state, 'active');
      assert.ok(d.firmwareVersion, 'the factory records the firmware it installed');
      // The LDevID came from EST, authenticated by the birth certificate the factory issued.
      const audit = await s.db.selectFrom('audit_entry').select(['actor', 'details']).where('action', '=', 'pki.est.enrolled').where('target', '=', `device:${b.id}`).execute();
      assert.equal(audit.length, 1);
      assert.equal(audit[0]!.actor, 'est:client-certificate');
      const rows = await stored(b.id);
      assert.ok(rows.length >= 5, `${b.serial}: ${rows.length} stored`);
      // The 2-minute backfill keeps its device time.
      assert.ok(rows[0]!.device_ts <= Date.now() - 100_000);
      assert.ok(rows.some((r) => r.kind === 'health'));
    }
    assert.ok(models.has('InfuSim-P300') && models.has('VitaSim-M5'), [...models].join());
    // A firmware version that is not one is refused; the recorded one stays.
    const first = await s.devices.get(bundles[0]!.id);
    await assert.rejects(s.devices.recordFirmware(first.id, '1.0 beta', 'test'), { code: 'REQUEST_INVALID' });
    assert.equal((await s.devices.get(first.id)).firmwareVersion, first.firmwareVersion);
  });

  it('onboards bundles from `medtrust factory provision` without the data dir, and enrols with one-time secrets', async () => {
    const o = capture();
    const out = join(dir, 'factory');
    assert.equal(await main(['node', 'medtrust', 'factory', 'provision', '--model', 'ThirdPartyPump', '--hw-rev', 'B', '--count', '2', '--out', out], env, o), 0, o.errors.join('\n'));
    // Only the bundles and the URLs: the trust anchor is the root at the end of each chain.pem.
    const noDataDir = { ...env, MEDTRUST_DATA_DIR: join(dir, 'nowhere') };
    assert.equal(await main(['node', 'medtrust', 'simulate', '--factory-dir', out, '--devices', '2', '--profile', 'ward', '--duration', '2s', '--url', estUrl, '--mqtt-url', listening.mqttUrl!], noDataDir, o), 0, o.errors.join('\n'));
    assert.match(o.lines.at(-1)!, /simulated 2 devices \(profile ward, seed 1\).*enrolled 2/);
    for (const b of readBundles(out)) assert.equal((await p.services.devices.get(b.id)).state, 'active');
    // Too few bundles for --devices is refused.
    assert.equal(await main(['node', 'medtrust', 'simulate', '--factory-dir', out, '--devices', '3', '--url', estUrl, '--mqtt-url', listening.mqttUrl!], noDataDir, o), 2);

    const secretRun = capture();
    assert.equal(await main(['node', 'medtrust', 'simulate', '--devices', '1', '--enrol', 'secret', '--duration', '1s', '--fleet-dir', fleetDir(), '--url', estUrl, '--mqtt-url', listening.mqttUrl!], env, secretRun), 0, secretRun.errors.join('\n'));
    const first = readBundles(fleetDir())[0]!;
    const viaSecret = await p.services.db.selectFrom('audit_entry').select('actor').where('action', '=', 'pki.est.enrolled').where('target', '=', `device:${first.id}`).where('actor', '=', 'est:basic').execute();
    assert.equal(viaSecret.length, 1);
  });

  it('buffers a monitor\'s readings through a network outage and replays them with their original timestamps', async () => {
    const bundles = readBundles(fleetDir());
    const caPem = (await p.services.cas.get('root')).certificatePem;
    const sim = await startSimulation({ bundles, profile: simProfile('icu'), seed: '8', estUrl, mqttUrl: listening.mqttUrl!, caPem, dir: fleetDir(), backfillMs: 0, output: capture() });
    try {
      const monitor = sim.fleet.devices.find((d) => d.model.kind === 'patient-monitor')!;
      await until(() => monitor.connected);
      const cutAt = Date.now();
      monitor.outage(cutAt, 7_000);
      await until(() => !monitor.connected);
      await new Promise((r) => setTimeout(r, 6_000));
      assert.ok(monitor.stats().pending >= 1, 'readings wait in the offline queue');
      const during = (await stored(monitor.deviceId)).filter((r) => r.device_ts >= cutAt);
      assert.equal(during.length, 0, 'nothing arrives while the network is down');
      await until(() => monitor.connected, 15_000);
      assert.ok(await drain(sim.fleet, 10_000));
      const after = (await stored(monitor.deviceId)).filter((r) => r.device_ts >= cutAt);
      const late = after.filter((r) => r.device_ts < cutAt + 7_000);
      assert.ok(late.length >= 1, JSON.stringify(after));
      for (const r of late) assert.ok(r.received_at - r.device_ts >= 1_000, 'replayed after the outage, stored with the time it was taken');
      assert.ok(monitor.stats().outages === 1);
    } finally {
      await sim.stop();
    }
  });
});

async function until(f: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
