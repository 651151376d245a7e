// Device side of the reconnect-storm bench (bench/telemetry-storm.bench.ts), a child process so
// that it does not share the broker's event loop. Argument: path of a JSON file
// { port, caPem, buffered, devices: [{ id, certPem, keyPem }] }. Every device connects at once
// with a full TLS handshake (no session resumption: a device or broker that restarted holds no
// session, and the platform's ticket keys are per process), retrying with backoff and jitter like
// the SDK, then publishes the readings it buffered while offline (QoS 1). Prints one JSON line
// when all are connected and all readings acknowledged, then stays connected until stdin closes.
import { readFileSync } from 'node:fs';
import mqtt, { type MqttClient } from 'mqtt';

interface Args { port: number; caPem: string; buffered: number; devices: Array<{ id: string; certPem: string; keyPem: string }> }
const a = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Args;
const DEADLINE_MS = 300_000;

const start = performance.now();
const connectMs: number[] = [];
let retries = 0;
const clients: MqttClient[] = [];

async function device(d: Args['devices'][number]): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    try {
      const c = await mqtt.connectAsync(`mqtts://127.0.0.1:${a.port}`, {
        clientId: d.id, ca: a.caPem, cert: d.certPem, key: d.keyPem, protocolVersion: 4, reconnectPeriod: 0, clean: true, keepalive: 600, connectTimeout: 60_000,
      });
      c.on('error', () => undefined);
      connectMs.push(performance.now() - start);
      clients.push(c);
      const t0 = Date.now() - 60_000;
      // In order, one at a time, as the SDK's queue replays them (window 1 is the worst case).
      for (let i = 0; i < a.buffered; i++) {
        await c.publishAsync(`devices/${d.id}/telemetry`, JSON.stringify({ v: 1, id: `storm-${i}`, ts: t0 + i * 1000, kind: 'vitals', vitals: { heartRate: { value: 70 + i, unit: '/min' } } }), { qos: 1 });
      }
      return performance.now() - start;
    } catch {
      if (performance.now() - start > DEADLINE_MS) throw new Error(`device ${d.id} could not connect`);
      retries++;
      const cap = Math.min(5000, 250 * 2 ** Math.min(attempt, 10));
      await new Promise((r) => setTimeout(r, Math.random() * cap));
    }
  }
}

const done = await Promise.all(a.devices.map(device));
connectMs.sort((x, y) => x - y);
const pct = (p: number): number => connectMs[Math.min(connectMs.length - 1, Math.floor(p * connectMs.length))]!;
process.stdout.write(`${JSON.stringify({ connected: connectMs.length, allConnectedMs: connectMs.at(-1), p50ConnectMs: pct(0.5), p99ConnectMs: pct(0.99), allAckedMs: Math.max(...done), retries })}\n`);
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
