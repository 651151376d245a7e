// Alert latency on the real platform (`Platform.start`, SQLite, embedded broker with mTLS): a
// device publishes a low SpO2 reading (rule: SpO2 < 90, no duration), the platform stores it,
// raises an alert and delivers it to an SSE client and to a webhook receiver on loopback. Measured
// from the gateway's receipt (the alert's `receivedAtMs`, stamped once the reading is committed)
// and from the device's publish, to arrival at each channel. Baseline in the same run: one plain
// MQTT publish -> subscribe hop through the same broker (platform -> device errors topic).
import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import mqtt from 'mqtt';
import { EstClient, newKeyAndCsr } from '../packages/device/src/index.ts';
import { loadConfig, Platform } from '../packages/server/src/index.ts';
import { createLogger } from '../packages/server/src/logging/index.ts';
import type { BenchRow } from './bench-row.ts';

const ALERTS = 60;
const BASELINE_HOPS = 200;

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
};

export async function run(): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'medtrust-alert-bench-'));
  const env = { MEDTRUST_DATA_DIR: join(dir, 'data'), MEDTRUST_HTTP_PORT: '0', MEDTRUST_HTTPS_PORT: '0', MEDTRUST_MQTT_PORT: '0', MEDTRUST_MASTER_KEY: 'alert-bench-master-key-0123456789', MEDTRUST_LOG_LEVEL: 'silent' };
  const p = await Platform.open({ config: loadConfig(env), logger: createLogger({ level: 'silent' }) });
  const listening = await p.start();
  const http = listening.httpUrl;
  const s = p.services;
  const sse = new AbortController();
  let device: mqtt.MqttClient | undefined;
  const receiver = createServer();
  try {
    await s.tenants.ensureOperator();
    const hospital = await s.tenants.create({ kind: 'customer', name: 'Bench Hospital' });
    const deviceId = (await s.devices.create({ serial: 'MON-BENCH-1', model: 'monitor-x', hardwareRevision: 'A', tenantId: hospital }, 'bench')).id;
    const clinician = (await s.tokens.create({ tenantId: hospital, role: 'clinician', name: 'bench', createdBy: 'bench' })).token;
    const admin = (await s.tokens.create({ tenantId: hospital, role: 'hospital-admin', name: 'bench', createdBy: 'bench' })).token;
    const api = async (method: string, path: string, body: unknown, token: string): Promise<Record<string, unknown>> => {
      const r = await fetch(`${http}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
      if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
      return await r.json() as Record<string, unknown>;
    };

    // Arrival times by alert id, per channel.
    const arrived = { sse: new Map<string, { at: number; perf: number; receivedAtMs: number }>(), webhook: new Map<string, { at: number; perf: number; receivedAtMs: number }>() };
    receiver.on('request', (req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const at = Date.now();
        const perf = performance.now();
        const doc = JSON.parse(body) as { type: string; alert: { id: string; receivedAtMs: number } };
        if (doc.type === 'alert.raised') arrived.webhook.set(doc.alert.id, { at, perf, receivedAtMs: doc.alert.receivedAtMs });
        res.statusCode = 204;
        res.end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    await api('POST', '/api/v1/webhooks', { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook` }, admin);
    await api('POST', '/api/v1/alert-rules', { name: 'Desaturation (bench)', priority: 'high', condition: { kind: 'threshold', metric: 'spo2', op: '<', value: 90, forMs: 0, hysteresis: 2 } }, clinician);
    const stream = await fetch(`${http}/api/v1/alerts/stream`, { headers: { authorization: `Bearer ${clinician}` }, signal: sse.signal });
    void (async () => {
      let buf = '';
      const reader = stream.body!.getReader();
      for (let r = await reader.read(); !r.done; r = await reader.read()) {
        const chunk = r.value;
        const at = Date.now();
        const perf = performance.now();
        buf += Buffer.from(chunk).toString('utf8');
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const frame = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const data = frame.split('\n').find((l) => l.startsWith('data: '));
          if (!data) continue;
          const e = JSON.parse(data.slice(6)) as { change: string; alert: { id: string; receivedAtMs: number } };
          if (e.change === 'raised') arrived.sse.set(e.alert.id, { at, perf, receivedAtMs: e.alert.receivedAtMs });
        }
      }
    })().catch(() => undefined);

    const rootPem = (await s.cas.get('root')).certificatePem;
    const enrol = await s.enrollTokens.create({ deviceId, createdBy: 'bench' });
    const { keyPem, csrDer } = await newKeyAndCsr(deviceId);
    const certPem = await new EstClient({ baseUrl: listening.httpsUrl, caPem: rootPem }).simpleEnroll(csrDer, { kind: 'secret', username: enrol.username, password: enrol.password });
    const dev = await mqtt.connectAsync(listening.mqttUrl!, { clientId: deviceId, cert: certPem, key: keyPem, ca: rootPem, protocolVersion: 4, reconnectPeriod: 0 });
    device = dev;
    const waitFor = async (f: () => boolean): Promise<void> => {
      const end = Date.now() + 15_000;
      while (!f()) {
        if (Date.now() > end) throw new Error('alert not delivered in time');
        await new Promise((r) => setTimeout(r, 1));
      }
    };

    // Alerts one at a time (latency, not throughput): normal reading, then a low one; resolve after.
    const fromReceipt = { sse: [] as number[], webhook: [] as number[] };
    const fromPublish = { sse: [] as number[], webhook: [] as number[] };
    let seq = 0;
    for (let i = 0; i < ALERTS + 5; i++) {
      const ts = Date.now();
      await dev.publishAsync(`devices/${deviceId}/telemetry`, JSON.stringify({ v: 1, id: `n-${seq++}`, ts: ts - 1, kind: 'vitals', vitals: { spo2: { value: 97, unit: '%' } } }), { qos: 1 });
      const before = new Set(arrived.sse.keys());
      const sent = performance.now();
      await dev.publishAsync(`devices/${deviceId}/telemetry`, JSON.stringify({ v: 1, id: `l-${seq++}`, ts, kind: 'vitals', vitals: { spo2: { value: 85, unit: '%' } } }), { qos: 1 });
      await waitFor(() => [...arrived.sse.keys()].some((k) => !before.has(k)));
      const id = [...arrived.sse.keys()].find((k) => !before.has(k))!;
      await waitFor(() => arrived.webhook.has(id));
      if (i >= 5) {
        // The first few warm up (JIT, caches, connection pools).
        for (const ch of ['sse', 'webhook'] as const) {
          const a = ch === 'sse' ? arrived.sse.get(id)! : arrived.webhook.get(id)!;
          fromReceipt[ch].push(a.at - a.receivedAtMs);
          fromPublish[ch].push(a.perf - sent);
        }
      }
      await api('POST', `/api/v1/alerts/${id}/resolve`, undefined, clinician);
    }

    // Baseline: one publish -> subscribe hop through the same broker, QoS 1, same TLS sessions.
    const errors = `devices/${deviceId}/errors`;
    await dev.subscribeAsync(errors, { qos: 1 });
    const hops: number[] = [];
    for (let i = 0; i < BASELINE_HOPS; i++) {
      const got = new Promise<number>((resolve) => dev.once('message', () => resolve(performance.now())));
      const t = performance.now();
      await s.clinical.sendToDevice(deviceId, 'errors', JSON.stringify({ v: 1, code: 'BENCH', messageId: null, at: Date.now() }));
      hops.push((await got) - t);
    }
    const base = pct(hops, 50);
    const baseline = `MQTT publish->subscribe hop p50 ${base.toFixed(2)} ms (p99 ${pct(hops, 99).toFixed(2)} ms)`;
    const row = (name: string, xs: number[]): BenchRow => ({ name, value: pct(xs, name.endsWith('p99') ? 99 : 50), unit: 'ms', baseline, ratio: pct(xs, name.endsWith('p99') ? 99 : 50) / base, note: `n=${xs.length}, lower is better${name.startsWith('gateway') ? '; receipt = reading committed, ms clock' : ''}` });
    return [
      row('gateway receipt -> SSE p50', fromReceipt.sse), row('gateway receipt -> SSE p99', fromReceipt.sse),
      row('gateway receipt -> webhook p50', fromReceipt.webhook), row('gateway receipt -> webhook p99', fromReceipt.webhook),
      row('device publish -> SSE p50', fromPublish.sse), row('device publish -> SSE p99', fromPublish.sse),
      row('device publish -> webhook p50', fromPublish.webhook), row('device publish -> webhook p99', fromPublish.webhook),
    ];
  } finally {
    sse.abort();
    await device?.endAsync(true);
    await p.stop();
    await new Promise((r) => receiver.close(r));
    rmSync(dir, { recursive: true, force: true });
  }
}
