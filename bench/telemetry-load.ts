// Load generator for bench/telemetry.bench.ts, run as a child process so that it does not share
// the event loop of the broker it measures. Argument: JSON { port, caFile, devices: [{ id, certFile, keyFile }],
// durationMs, window, idle? }. Prints one JSON line: { acked, elapsedMs } (or { connected } when idle).
import { readFileSync } from 'node:fs';
import mqtt from 'mqtt';

interface Args { port: number; caFile: string; devices: Array<{ id: string; clientId: string; certFile: string; keyFile: string }>; durationMs: number; window: number; idle?: boolean }
const a = JSON.parse(process.argv[2]!) as Args;
const ca = readFileSync(a.caFile);
const clients = await Promise.all(a.devices.map((d) => mqtt.connectAsync(`mqtts://127.0.0.1:${a.port}`, {
  clientId: d.clientId, ca, cert: readFileSync(d.certFile), key: readFileSync(d.keyFile), protocolVersion: 4, reconnectPeriod: 0, clean: true, keepalive: 600,
})));
if (a.idle) {
  process.stdout.write(`${JSON.stringify({ connected: clients.length })}\n`);
  // Stay connected until the parent has measured, then exit on stdin close.
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
} else {
  let acked = 0;
  let seq = 0;
  const start = performance.now();
  const end = start + a.durationMs;
  await Promise.all(clients.flatMap((c, i) => Array.from({ length: a.window }, async () => {
    const id = a.devices[i]!.id;
    while (performance.now() < end) {
      const body = JSON.stringify({ v: 1, id: `b-${process.pid}-${seq++}`, ts: Date.now(), kind: 'vitals', vitals: { heartRate: { value: 72, unit: '/min' }, spo2: { value: 97, unit: '%' } } });
      await c.publishAsync(`devices/${id}/telemetry`, body, { qos: 1 });
      acked++;
    }
  })));
  const elapsedMs = performance.now() - start;
  await Promise.all(clients.map((c) => c.endAsync(true)));
  process.stdout.write(`${JSON.stringify({ acked, elapsedMs })}\n`);
  process.exit(0);
}
