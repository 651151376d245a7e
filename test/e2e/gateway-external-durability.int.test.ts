// External mode durability with real processes: Mosquitto runs the config `medtrust gateway
// mosquitto-config` prints; `medtrust serve` consumes through its shared subscription. Mosquitto
// acknowledges the device; the platform's consumers hold persistent sessions and PUBACK Mosquitto
// only after the commit. So killing the platform with SIGKILL mid-stream, publishing while it is
// down, and even restarting Mosquitto meanwhile must lose nothing Mosquitto acknowledged.
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import { openDatabase } from '../../packages/server/src/db/index.ts';
import { loadConfig, Platform } from '../../packages/server/src/index.ts';
import { createLogger } from '../../packages/server/src/logging/index.ts';
import { freePort, waitForPort } from './ports.ts';

const CLI = new URL('../../packages/cli/bin/medtrust.js', import.meta.url).pathname;

describe('external mode: nothing Mosquitto acknowledged is lost', () => {
  let dir: string;
  let env: Record<string, string>;
  let conf: string;
  let devicePort: number;
  let platformPort: number;
  let device: { id: string; certPem: string; keyPem: string; caPem: string };
  let mosq: ChildProcess | undefined;
  let serve: ChildProcess | undefined;
  let client: MqttClient | undefined;

  const startMosquitto = async (): Promise<void> => {
    mosq = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    mosq.stderr!.on('data', (b: Buffer) => (err += b.toString()));
    await waitForPort(devicePort).catch((e: Error) => {
      throw new Error(`${e.message}: ${err}`);
    });
    await waitForPort(platformPort);
  };
  const stopMosquitto = async (): Promise<void> => {
    const m = mosq!;
    const exited = new Promise((r) => m.once('exit', r));
    m.kill('SIGTERM'); // saves its persistence file on the way out
    await exited;
  };
  const startServe = async (): Promise<void> => {
    const child = spawn(process.execPath, [CLI, 'serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    serve = child;
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve did not start: ${stderr}`)), 180_000);
      child.stdout.on('data', (b: Buffer) => {
        if (b.toString().includes('MedTrust')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${stderr}`)));
    });
  };
  const killServe = async (): Promise<void> => {
    const s = serve!;
    const exited = new Promise((r) => s.once('exit', r));
    s.kill('SIGKILL');
    await exited;
    assert.equal(s.signalCode, 'SIGKILL');
  };
  const connectDevice = async (): Promise<MqttClient> => {
    const c = await mqtt.connectAsync(`mqtts://127.0.0.1:${devicePort}`, {
      clientId: device.id, key: device.keyPem, cert: device.certPem, ca: device.caPem, protocolVersion: 5, reconnectPeriod: 0, clean: true,
    });
    c.on('error', () => undefined);
    return c;
  };
  /** Publishes ids `${prefix}-0..n-1`, `window` in flight; returns the ids Mosquitto acknowledged. */
  const publish = async (c: MqttClient, prefix: string, n: number, window: number, onAcked?: (count: number) => void): Promise<string[]> => {
    const acked: string[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < n) {
        const id = `${prefix}-${next++}`;
        const body = JSON.stringify({ v: 1, id, ts: Date.now() - 1000, kind: 'vitals', vitals: { heartRate: { value: 60 + (next % 40), unit: '/min' } } });
        await c.publishAsync(`devices/${device.id}/telemetry`, body, { qos: 1 });
        acked.push(id);
        onAcked?.(acked.length);
      }
    };
    await Promise.all(Array.from({ length: window }, worker));
    return acked;
  };
  const storedIds = async (): Promise<Set<string>> => {
    const db = openDatabase({ dataDir: join(dir, 'data'), databaseUrl: undefined }).db;
    try {
      return new Set((await db.selectFrom('telemetry_message').select('message_id').where('device_id', '=', device.id).execute()).map((r) => r.message_id));
    } finally {
      await db.destroy();
    }
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'medtrust-extdur-'));
    devicePort = await freePort();
    platformPort = await freePort();
    env = { ...process.env as Record<string, string>, MEDTRUST_DATA_DIR: join(dir, 'data'), MEDTRUST_HTTP_PORT: '0', MEDTRUST_HTTPS_PORT: '0', MEDTRUST_MASTER_KEY: 'extdur-test-master-key-0123', MEDTRUST_LOG_LEVEL: 'warn' };
    const p = await Platform.open({ config: loadConfig(env), logger: createLogger({ level: 'silent' }) });
    try {
      const init = await p.init();
      const d = await p.services.devices.create({ serial: 'EXTDUR-1', model: 'monitor-x', hardwareRevision: 'A', tenantId: init.operatorTenantId }, 'test');
      await p.services.devices.transition(d.id, 'enrolled', 'test');
      execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', join(dir, 'dev.key')]);
      const csr = execFileSync('openssl', ['req', '-new', '-key', join(dir, 'dev.key'), '-subj', `/CN=${d.id}`, '-outform', 'DER']);
      const issued = await p.services.issuer.issueLdevid({ deviceId: d.id, csrDer: csr, actor: 'test' });
      device = { id: d.id, certPem: issued.pem, keyPem: readFileSync(join(dir, 'dev.key'), 'utf8'), caPem: (await p.services.cas.get('root')).certificatePem };
    } finally {
      await p.stop();
    }
    const mdir = join(dir, 'mosquitto');
    const printed = execFileSync(process.execPath, [CLI, 'gateway', 'mosquitto-config', '--dir', mdir, '--port', String(devicePort), '--bind', '127.0.0.1', '--platform-port', String(platformPort), '--run-as', userInfo().username], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    conf = join(dir, 'printed.conf');
    writeFileSync(conf, printed);
    env.MEDTRUST_MQTT_URL = readFileSync(join(mdir, 'platform-url'), 'utf8').trim();
    await startMosquitto();
  });
  after(async () => {
    await client?.endAsync(true).catch(() => undefined);
    serve?.kill('SIGKILL');
    mosq?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints a config that persists Mosquitto state and queues enough for an outage', () => {
    const text = readFileSync(conf, 'utf8');
    assert.match(text, /^persistence true$/m);
    assert.match(text, /^persistence_location \/.+\/$/m);
    assert.match(text, /^max_queued_messages \d{6,}$/m);
  });

  it('stores every acknowledged message across a platform SIGKILL, an outage and a Mosquitto restart', async () => {
    await startServe();
    client = await connectDevice();
    // 1. Mid-stream: the platform is killed after 150 acknowledgements, while the device keeps sending.
    const first = await publish(client, 'a', 400, 20, (n) => {
      if (n === 150) serve!.kill('SIGKILL');
    });
    await new Promise((r) => (serve!.exitCode !== null || serve!.signalCode !== null ? r(undefined) : serve!.once('exit', r)));
    // 2. While the platform is down, Mosquitto acknowledges and queues for the consumer sessions:
    // more than Mosquitto's default queue (1000 per client, 4 consumers) would hold.
    const whileDown = await publish(client, 'b', 5000, 50);
    await client.endAsync(true);
    // 3. Mosquitto restarts (graceful: it saves its persistence file) before the platform is back.
    await stopMosquitto();
    await startMosquitto();
    // 4. The platform comes back with the same consumer client ids and drains the queues; then the
    // device sends more. (Published after a Mosquitto restart but before the consumers subscribed
    // again, messages are acknowledged and dropped by Mosquitto 2.0: docs/gateway.md.)
    await startServe();
    client = await connectDevice();
    const afterRestart = await publish(client, 'c', 100, 10);
    await client.endAsync(true);
    client = undefined;
    const acked = [...first, ...whileDown, ...afterRestart];
    assert.equal(acked.length, 5500);
    const deadline = Date.now() + 120_000;
    let lost: string[] = acked;
    while (Date.now() < deadline) {
      const stored = await storedIds();
      lost = acked.filter((id) => !stored.has(id));
      if (lost.length === 0) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.deepEqual(lost.slice(0, 20), [], `${lost.length} of ${acked.length} acknowledged messages lost`);
    await killServe();
  });
});
