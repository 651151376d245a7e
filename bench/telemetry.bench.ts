// Persisted QoS 1 telemetry over mTLS through the embedded broker (aedes + validation + group
// commit to SQLite) against the pass-through rate of a plain Mosquitto with TLS (client
// certificates too, a subscriber consuming, no persistence), measured by the same load generator
// (a child process) in the same run. Also: where the time goes (memory per device: telemetry-storm).
import 'reflect-metadata';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { Registry } from 'prom-client';
import { DbAuditLog } from '../packages/server/src/audit/index.ts';
import { migrateToLatest } from '../packages/server/src/db/index.ts';
import { createTestDatabase } from '../packages/server/src/db/testing.ts';
import { LocalEventBus } from '../packages/server/src/events/index.ts';
import { DeviceGateway } from '../packages/server/src/gateway/index.ts';
import { createOpensslTestPki, type TestDeviceCert } from '../packages/server/src/gateway/testing/openssl-test-pki.ts';
import { TableCertificateStore, TableDeviceDirectory } from '../packages/server/src/gateway/testing/table-identity.ts';
import { createLogger } from '../packages/server/src/logging/index.ts';
import { allMigrations } from '../packages/server/src/migrations.ts';
import { MessageValidator } from '../packages/server/src/telemetry/index.ts';
import type { BenchRow } from './bench-row.ts';

const DEVICES = 20;
// Messages in flight per device: low (latency-bound: one commit per round trip) and high (throughput-bound).
const WINDOWS = [10, 50];
const DURATION_MS = 5000;
const LOAD = new URL('./telemetry-load.ts', import.meta.url).pathname;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((r) => {
      const s = connect(port, '127.0.0.1', () => (s.destroy(), r(true)));
      s.on('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`port ${port} did not open`);
}

function runLoad(args: object): Promise<{ acked: number; elapsedMs: number }> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['--import', 'tsx', LOAD, JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (b: Buffer) => (out += b.toString()));
    c.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as { acked: number; elapsedMs: number }) : reject(new Error(`load generator exited ${code}`))));
  });
}

export async function run(): Promise<BenchRow[]> {
  const t = await createTestDatabase('sqlite');
  await migrateToLatest(t.db, 'sqlite', allMigrations);
  const pki = await createOpensslTestPki(t.db);
  const rows: BenchRow[] = [];
  let mosq: ChildProcess | undefined;
  let gw: DeviceGateway | undefined;
  try {
    const devs: TestDeviceCert[] = [];
    for (let i = 0; i < DEVICES; i++) devs.push(await pki.enrolDevice({ deviceId: `dev_bench${i}`, tenantId: 'ten_bench', state: 'active' }));
    const load = (port: number, window: number): object => ({ port, caFile: pki.caBundleFile, durationMs: DURATION_MS, window, devices: devs.map((d) => ({ id: d.deviceId, clientId: d.deviceId, certFile: d.certFile, keyFile: d.keyFile })) });

    // Baseline: Mosquitto with TLS and client certificates, a subscriber consuming every message.
    const mport = await freePort();
    const conf = join(pki.dir, 'bench-mosquitto.conf');
    writeFileSync(conf, [`listener ${mport} 127.0.0.1`, `cafile ${pki.caBundleFile}`, `certfile ${join(pki.dir, 'server.pem')}`, `keyfile ${join(pki.dir, 'server.key')}`, 'require_certificate true', 'allow_anonymous true', 'persistence false', 'max_inflight_messages 0', 'max_queued_messages 100000', 'user root', ''].join('\n'));
    mosq = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
    await waitForPort(mport);
    const consumer = await mqtt.connectAsync(`mqtts://127.0.0.1:${mport}`, { ca: pki.rootPem, cert: devs[0]!.certPem, key: devs[0]!.keyPem, clientId: 'bench-consumer', protocolVersion: 4 });
    let consumed = 0;
    consumer.on('message', () => consumed++);
    await consumer.subscribeAsync('devices/+/telemetry', { qos: 1 });
    const baseRates = new Map<number, number>();
    for (const w of WINDOWS) {
      consumed = 0;
      const base = await runLoad(load(mport, w));
      baseRates.set(w, (base.acked / base.elapsedMs) * 1000);
      rows.push({ name: `mosquitto TLS pass-through, QoS 1, ${w} in flight/device`, value: baseRates.get(w)!, unit: 'msg/s', note: `${DEVICES} devices; ${consumed} consumed by a subscriber` });
    }
    await consumer.endAsync(true);

    // Embedded broker: mTLS, authentication, validation, group commit to SQLite, PUBACK after commit.
    gw = await DeviceGateway.start({
      db: t.db, audit: new DbAuditLog({ db: t.db, dialect: 'sqlite' }), events: new LocalEventBus(), logger: createLogger({ level: 'silent' }), metrics: new Registry(), node: 'bench',
      certificates: new TableCertificateStore(t.db), devices: new TableDeviceDirectory(t.db), rateLimit: { ratePerS: 1e6, burst: 1e6 },
      mqtt: { bindHost: '127.0.0.1', port: 0, tls: { key: pki.server.keyPem, cert: pki.server.chainPem, clientCas: [pki.operationalPem, pki.rootPem] } },
    });
    const sum = (h: { values: Array<{ metricName?: string; value: number }> }, name: string): number => h.values.filter((v) => v.metricName === name).reduce((a, v) => a + v.value, 0);
    let embRate = 0;
    for (const w of WINDOWS) {
      const before = await gw.metrics.commitBatch.get();
      const emb = await runLoad(load(gw.broker!.port, w));
      const after = await gw.metrics.commitBatch.get();
      const batches = sum(after, 'medtrust_telemetry_commit_batch_size_count') - sum(before, 'medtrust_telemetry_commit_batch_size_count');
      const batchMsgs = sum(after, 'medtrust_telemetry_commit_batch_size_sum') - sum(before, 'medtrust_telemetry_commit_batch_size_sum');
      embRate = (emb.acked / emb.elapsedMs) * 1000;
      rows.push({ name: `embedded broker, persisted QoS 1 (mTLS, SQLite), ${w} in flight/device`, value: embRate, unit: 'msg/s', baseline: 'mosquitto TLS pass-through, same window', ratio: embRate / baseRates.get(w)!, note: `target >= 0.5; ${batches} commits of ${(batchMsgs / Math.max(batches, 1)).toFixed(0)} msgs` });
    }
    // Where the time goes: validation alone, and the commit share of the wall time.
    const v = new MessageValidator();
    const sample = Buffer.from(JSON.stringify({ v: 1, id: 'x', ts: Date.now(), kind: 'vitals', vitals: { heartRate: { value: 72, unit: '/min' }, spo2: { value: 97, unit: '%' } } }));
    const n = 50_000;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) v.validate(sample);
    const validateUs = ((performance.now() - t0) * 1000) / n;
    rows.push({ name: 'validation (JSON.parse + ajv + time checks)', value: validateUs, unit: 'us/msg', note: `${((validateUs * embRate) / 1e4).toFixed(1)}% of one core at the embedded rate` });
    const st = await import('../packages/server/src/telemetry/index.ts');
    const store = new st.TelemetryStore({ db: t.db, maxDelayMs: 0 });
    const c0 = performance.now();
    let k = 0;
    await Promise.all(Array.from({ length: 2000 }, () => store.submit({ deviceId: 'dev_bench0', tenantId: 'ten_bench', transport: 'mqtt', message: { v: 1, id: `direct-${k++}`, ts: Date.now(), kind: 'vitals', vitals: { heartRate: { value: 72, unit: '/min' } } } })));
    const storeRate = (2000 / (performance.now() - c0)) * 1000;
    rows.push({ name: 'store alone (group commit, no network)', value: storeRate, unit: 'msg/s', baseline: 'embedded broker', ratio: storeRate / embRate, note: 'ceiling set by SQLite; the rest of the gap to it is TLS + MQTT framing in aedes' });

    // Memory per connected device: bench/telemetry-storm.bench.ts (N distinct devices, RSS after a full GC).
    return rows;
  } finally {
    await gw?.stop();
    mosq?.kill();
    pki.close();
    await t.close();
  }
}
