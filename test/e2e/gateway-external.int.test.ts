// External mode against a real Mosquitto: `medtrust gateway mosquitto-config` writes the files
// and prints the config, the test starts mosquitto with exactly that config on free ports, the
// platform consumes devices/+/telemetry through an MQTT 5 shared subscription, and devices
// publish with mosquitto_pub and their LDevIDs from the platform's Operational CA.
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { DeviceGateway, RegistryDeviceDirectory } from '../../packages/server/src/gateway/index.ts';
import { loadConfig, Platform } from '../../packages/server/src/index.ts';
import { createLogger } from '../../packages/server/src/logging/index.ts';
import { freePort, waitForPort } from './ports.ts';

const CLI = new URL('../../packages/cli/bin/medtrust.js', import.meta.url).pathname;

function runCli(cmd: string, args: string[], opts: { env: Record<string, string>; encoding: 'utf8'; stdio: ['ignore', 'pipe', 'pipe'] }): string {
  try {
    return execFileSync(cmd, args, opts);
  } catch (e) {
    throw new Error(`${cmd} ${args.join(' ')}: ${String((e as { stderr?: string }).stderr)}`);
  }
}

interface Dev { id: string; certFile: string; keyFile: string; serial: string }

describe('external mode with a real Mosquitto', () => {
  let dir: string;
  let env: Record<string, string>;
  let platform: Platform;
  let gw: DeviceGateway;
  let mosq: ChildProcess;
  let devicePort: number;
  let caFile: string;
  let conf: string;
  const devs: Dev[] = [];

  const pub = (d: Dev, topic: string, msg: string): Promise<number> => new Promise((resolve) => {
    execFile('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(devicePort), '--cafile', caFile, '--cert', d.certFile, '--key', d.keyFile, '-i', d.id, '-q', '1', '-t', topic, '-m', msg, '-V', 'mqttv5'], { timeout: 15_000 }, (err) => resolve(err ? 1 : 0));
  });
  const stored = async (deviceId: string): Promise<string[]> => (await platform.services.db.selectFrom('telemetry_message').select('message_id').where('device_id', '=', deviceId).orderBy('seq').execute()).map((r) => r.message_id);
  const eventually = async (f: () => Promise<boolean>, ms = 5000): Promise<boolean> => {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      if (await f()) return true;
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  };
  const vitals = (id: string, hr = 70): string => JSON.stringify({ v: 1, id, ts: Date.now() - 500, kind: 'vitals', vitals: { heartRate: { value: hr, unit: '/min' } } });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'medtrust-ext-'));
    env = { ...process.env as Record<string, string>, MEDTRUST_DATA_DIR: join(dir, 'data'), MEDTRUST_MASTER_KEY: 'external-test-master-key-01', MEDTRUST_LOG_LEVEL: 'warn' };
    const logger = createLogger({ level: 'silent' });
    platform = await Platform.open({ config: loadConfig(env), logger });
    const init = await platform.init();
    const s = platform.services;
    for (const serial of ['EXT-1', 'EXT-2']) {
      const d = await s.devices.create({ serial, model: 'monitor-x', hardwareRevision: 'A', tenantId: init.operatorTenantId }, 'test');
      await s.devices.transition(d.id, 'enrolled', 'test');
      const keyFile = join(dir, `${serial}.key`);
      execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyFile]);
      const csr = execFileSync('openssl', ['req', '-new', '-key', keyFile, '-subj', `/CN=${d.id}`, '-outform', 'DER']);
      const issued = await s.issuer.issueLdevid({ deviceId: d.id, csrDer: csr, actor: 'test' });
      const certFile = join(dir, `${serial}.pem`);
      writeFileSync(certFile, issued.pem);
      devs.push({ id: d.id, certFile, keyFile, serial: issued.serial });
    }
    devicePort = await freePort();
    const platformPort = await freePort();
    const mdir = join(dir, 'mosquitto');
    // The real command, as an operator runs it; its stdout is the config Mosquitto runs with.
    conf = runCli(process.execPath, [CLI, 'gateway', 'mosquitto-config', '--dir', mdir, '--port', String(devicePort), '--bind', '127.0.0.1', '--platform-port', String(platformPort), '--run-as', userInfo().username], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    writeFileSync(join(dir, 'printed.conf'), conf);
    caFile = join(mdir, 'ca-bundle.pem');
    mosq = spawn('mosquitto', ['-c', join(dir, 'printed.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let mosqErr = '';
    mosq.stderr!.on('data', (b: Buffer) => (mosqErr += b.toString()));
    await waitForPort(devicePort).catch((e: Error) => {
      throw new Error(`${e.message}: ${mosqErr}`);
    });
    await waitForPort(platformPort);
    gw = await DeviceGateway.start({
      db: s.db, audit: s.audit, events: s.events, logger, metrics: new Registry(), node: 'ext-node',
      certificates: s.certificates, devices: new RegistryDeviceDirectory(s.devices), mqtt: undefined,
      external: { url: readFileSync(join(mdir, 'platform-url'), 'utf8').trim(), consumers: 2 },
    });
  });
  after(async () => {
    await gw?.stop();
    mosq?.kill();
    await platform?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints a config with mTLS, identity as username, the CA bundle, the CRL and a %u ACL', () => {
    for (const line of ['require_certificate true', 'use_identity_as_username true', 'cafile ', 'crlfile ', 'acl_file ', 'allow_anonymous false']) assert.ok(conf.includes(line), line);
    const acl = readFileSync(join(dir, 'mosquitto', 'device.acl'), 'utf8');
    assert.match(acl, /pattern write devices\/%u\/telemetry/);
  });

  it('stores what a device publishes through Mosquitto, consumed by a shared subscription', async () => {
    assert.equal(await pub(devs[0]!, `devices/${devs[0]!.id}/telemetry`, vitals('x-1')), 0);
    assert.ok(await eventually(async () => (await stored(devs[0]!.id)).includes('x-1')));
  });

  it('confines a device to its own topics by the certificate identity (ACL %u)', async () => {
    await pub(devs[0]!, `devices/${devs[1]!.id}/telemetry`, vitals('spoof-1'));
    await pub(devs[0]!, `devices/${devs[0]!.id}/telemetry`, vitals('x-2'));
    assert.ok(await eventually(async () => (await stored(devs[0]!.id)).includes('x-2')));
    assert.deepEqual(await stored(devs[1]!.id), []);
  });

  it('refuses a device without a valid LDevID on the platform side before the CRL reaches Mosquitto', async () => {
    await platform.services.revocation.revoke(devs[1]!.serial, 'keyCompromise', 'test');
    await new Promise((r) => setTimeout(r, 2100)); // past the admission cache
    const sub = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(devicePort), '--cafile', caFile, '--cert', devs[1]!.certFile, '--key', devs[1]!.keyFile, '-i', `${devs[1]!.id}-sub`, '-t', `devices/${devs[1]!.id}/errors`, '-C', '1', '-W', '8', '-V', 'mqttv5']);
    let out = '';
    sub.stdout.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise((r) => sub.on('close', r));
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(await pub(devs[1]!, `devices/${devs[1]!.id}/telemetry`, vitals('rev-1')), 0);
    await exited;
    assert.equal((JSON.parse(out) as { code: string }).code, 'CERT_REVOKED');
    assert.deepEqual(await stored(devs[1]!.id), []);
  });

  it('answers a malformed message on the device errors topic through Mosquitto', async () => {
    const d = devs[0]!;
    const sub = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(devicePort), '--cafile', caFile, '--cert', d.certFile, '--key', d.keyFile, '-i', `${d.id}-sub`, '-t', `devices/${d.id}/errors`, '-C', '1', '-W', '8', '-V', 'mqttv5']);
    let out = '';
    sub.stdout.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise((r) => sub.on('close', r));
    await new Promise((r) => setTimeout(r, 400));
    await pub(d, `devices/${d.id}/telemetry`, '{"v":1');
    await exited;
    assert.equal((JSON.parse(out) as { code: string }).code, 'MESSAGE_MALFORMED');
  });
});
