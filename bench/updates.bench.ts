// Update checks served per second by one node: GET /tuf/metadata/timestamp.json over keep-alive
// (plain and conditional, If-None-Match -> 304),
// through the platform's HTTP stack, against a plain Fastify and a plain node:http server that
// return the same bytes. The load generator runs in a worker thread (raw keep-alive sockets, 32
// connections) so it has its own core; all three servers are measured the same way in the same run.
// Second part: one release rolled through 10,000 simulated devices (desired state + status
// report each, 50 at a time): platform CPU per device against a bare SQLite update per device,
// and the time one phase decision (count of the open phases) takes at that size.
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';
import Fastify from 'fastify';
import { Registry } from 'prom-client';
import { TenantService } from '../packages/server/src/access/index.ts';
import { DbAuditLog } from '../packages/server/src/audit/index.ts';
import { migrateToLatest } from '../packages/server/src/db/index.ts';
import { createTestDatabase } from '../packages/server/src/db/testing.ts';
import { buildHttpApp } from '../packages/server/src/http/index.ts';
import { createLogger } from '../packages/server/src/logging/index.ts';
import { allMigrations } from '../packages/server/src/migrations.ts';
import { createUpdates } from '../packages/server/src/updates/index.ts';
import { TestKeyStore } from '../packages/server/src/updates/test-key-store.ts';
import type { BenchRow } from './bench-row.ts';

const DURATION_MS = 4000;
const CONNECTIONS = 32;

// A raw keep-alive HTTP/1.1 client on plain sockets, in a worker thread: undici's per-request cost
// capped every server near 11,000 req/s on this machine (the client, not the server, was measured).
const LOAD = `
const { parentPort, workerData } = require('node:worker_threads');
const net = require('node:net');
const { port, path, headers, status, length, durationMs, connections } = workerData;
const request = Buffer.from('GET ' + path + ' HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n' + Object.entries(headers).map(([k, v]) => k + ': ' + v + '\\r\\n').join('') + '\\r\\n');
const CRLF2 = Buffer.from('\\r\\n\\r\\n');
let ok = 0, bad = 0;
const end = Date.now() + durationMs;
const client = () => new Promise((resolve) => {
  const socket = net.connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  let buf = Buffer.alloc(0);
  const next = () => {
    if (Date.now() >= end) { socket.destroy(); resolve(); return; }
    socket.write(request);
  };
  socket.on('connect', next);
  socket.on('error', () => { bad++; resolve(); });
  socket.on('data', (c) => {
    buf = buf.length === 0 ? c : Buffer.concat([buf, c]);
    for (;;) {
      const h = buf.indexOf(CRLF2);
      if (h < 0) return;
      const head = buf.subarray(0, h).toString('latin1');
      const code = Number(head.slice(9, 12));
      const m = /\\r\\ncontent-length:\\s*(\\d+)/i.exec(head);
      const bodyLength = code === 304 ? 0 : m ? Number(m[1]) : -1;
      if (bodyLength < 0) { bad++; socket.destroy(); resolve(); return; }
      if (buf.length < h + 4 + bodyLength) return;
      buf = buf.subarray(h + 4 + bodyLength);
      if (code === status && bodyLength === length) ok++; else bad++;
      next();
    }
  });
});
(async () => {
  const t0 = Date.now();
  await Promise.all(Array.from({ length: connections }, client));
  parentPort.postMessage({ perSecond: ok / ((Date.now() - t0) / 1000), bad });
})();
`;

async function load(url: string, path: string, length: number, conditional?: { etag: string }): Promise<number> {
  const workerData = { port: Number(new URL(url).port), path, length: conditional ? 0 : length, status: conditional ? 304 : 200, headers: conditional ? { 'if-none-match': conditional.etag } : {}, durationMs: DURATION_MS, connections: CONNECTIONS };
  const w = new Worker(LOAD, { eval: true, workerData });
  const [r] = (await once(w, 'message')) as [{ perSecond: number; bad: number }];
  await w.terminate();
  if (r.bad > 0) throw new Error(`${r.bad} bad responses from ${url}`);
  return r.perSecond;
}

const FLEET = 10_000;

async function campaignRows(): Promise<BenchRow[]> {
  const t = await createTestDatabase('sqlite');
  try {
    await migrateToLatest(t.db, 'sqlite', allMigrations);
    const audit = new DbAuditLog({ db: t.db, dialect: 'sqlite' });
    const updates = createUpdates({ db: t.db, dialect: 'sqlite', dataDir: t.dataDir, keyStore: new TestKeyStore(), audit });
    await updates.ceremony.initialise('bench');
    const tenant = await new TenantService({ db: t.db }).ensureOperator();
    const ids = Array.from({ length: FLEET }, (_, i) => `dev_b${String(i).padStart(6, '0')}`);
    for (let i = 0; i < FLEET; i += 500) {
      await t.db.insertInto('device').values(ids.slice(i, i + 500).map((id) => ({ id, serial: id, model: 'pump-z', hardware_revision: 'A', tenant_id: tenant, site_id: null, state: 'active' as const, firmware_version: '1.0.0', batch_id: null, created_at: 0, updated_at: 0 }))).execute();
    }
    const rel = await updates.releases.create({ tenantId: tenant, models: ['pump-z'], version: '2.0.0', fileName: 'fw.bin', artifact: Buffer.from('fw'), actor: 'bench' });
    await updates.releases.transition(rel.id, 'approve', 'bench');
    await updates.releases.transition(rel.id, 'publish', 'bench');
    const c = await updates.campaigns.create({ releaseId: rel.id, name: 'bench', selection: { model: 'pump-z' }, phases: [1, 10, 50, 100], successThreshold: 0.95, failureThreshold: 0.05, actor: 'bench' });
    // Devices come in phase order (as they would, asking when their phase opens).
    const order = (await t.db.selectFrom('campaign_device').select('device_id').where('campaign_id', '=', c.id).orderBy('phase').orderBy('device_id').execute()).map((r) => r.device_id);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < order.length) {
        const id = order[next++]!;
        // A device whose phase is not open yet asks again later, as a real one would.
        for (;;) {
          const want = await updates.campaigns.desiredFor(id);
          if (want.kind === 'install') break;
          await sleep(5);
        }
        await updates.campaigns.report(c.id, id, 'installed');
      }
    };
    await Promise.all(Array.from({ length: 50 }, worker));
    const cpu = process.cpuUsage(cpu0);
    const wallMs = performance.now() - t0;
    // Desired-state lookups (what a device's MQTT check costs the platform): one indexed query each.
    const LOOKUPS = 20_000;
    let looked = 0;
    const l0 = performance.now();
    await Promise.all(Array.from({ length: 32 }, async () => {
      while (looked < LOOKUPS) await updates.campaigns.desiredFor(ids[looked++ % FLEET]!);
    }));
    const lookupsPerS = LOOKUPS / ((performance.now() - l0) / 1000);
    let state = (await updates.campaigns.get(c.id)).state;
    for (let i = 0; i < 50 && state !== 'completed'; i++) {
      await sleep(100); // the last background evaluation
      state = (await updates.campaigns.get(c.id)).state;
    }
    if (state !== 'completed') throw new Error(`campaign ended ${state}`);
    const cpuMsPerDevice = (cpu.user + cpu.system) / 1000 / FLEET;
    // Baseline: the least a status report can cost, one indexed UPDATE per device.
    const b0 = process.cpuUsage();
    for (const id of ids) await t.db.updateTable('campaign_device').set({ updated_at: 1 }).where('campaign_id', '=', c.id).where('device_id', '=', id).execute();
    const b = process.cpuUsage(b0);
    const baseMs = (b.user + b.system) / 1000 / FLEET;
    // A phase decision over the whole fleet: a second campaign with every device in one phase.
    const all = await updates.campaigns.create({ releaseId: rel.id, name: 'decide', selection: { model: 'pump-z' }, phases: [100], actor: 'bench' });
    await t.db.updateTable('campaign_device').set({ status: 'installed' }).where('campaign_id', '=', all.id).execute();
    const e0 = performance.now();
    const decided = await updates.campaigns.evaluate(all.id);
    const decideMs = performance.now() - e0;
    if (decided !== 'completed') throw new Error(`decision gave ${decided}`);
    return [
      { name: `campaign CPU per device (${FLEET} devices)`, value: cpuMsPerDevice, unit: 'ms', baseline: 'one bare UPDATE per device', ratio: cpuMsPerDevice / baseMs, note: `target < 1 ms; wall ${Math.round(wallMs)} ms; includes desired-state pulls and phase evaluations` },
      { name: `phase decision at ${FLEET} devices`, value: decideMs, unit: 'ms', note: 'target < 1000 ms after the threshold is met' },
      { name: `desired-state lookups (${FLEET} devices, SQLite)`, value: lookupsPerS, unit: 'lookups/s', note: 'in-process, 32 concurrent; one indexed join per lookup (MQTT check on connect)' },
    ];
  } finally {
    await t.close();
  }
}

export async function run(): Promise<BenchRow[]> {
  return [...(await checkRows()), ...(await campaignRows())];
}

async function checkRows(): Promise<BenchRow[]> {
  const t = await createTestDatabase('sqlite');
  try {
    await migrateToLatest(t.db, 'sqlite', allMigrations);
    const audit = new DbAuditLog({ db: t.db, dialect: 'sqlite' });
    const updates = createUpdates({ db: t.db, dialect: 'sqlite', dataDir: t.dataDir, keyStore: new TestKeyStore(), audit });
    await updates.ceremony.initialise('bench');
    const app = await buildHttpApp({ logger: createLogger({ level: 'silent' }), metrics: new Registry(), ready: async () => true, routes: [updates.tufRoutes], fastPaths: [updates.tufFastPath], version: 'bench' });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const bytes = (await updates.reader.read('timestamp.json'))!;
    const plainFastify = Fastify();
    plainFastify.get('/tuf/metadata/timestamp.json', async (_req, reply) => reply.header('content-type', 'application/json').send(bytes));
    await plainFastify.listen({ host: '127.0.0.1', port: 0 });
    const plainNode = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': bytes.length });
      res.end(bytes);
    });
    plainNode.listen(0, '127.0.0.1');
    await once(plainNode, 'listening');
    const urlOf = (port: number): string => `http://127.0.0.1:${port}`;
    const path = '/tuf/metadata/timestamp.json';
    try {
      // As in the platform: timestamp.json from memory before Fastify (tufFastPath), ETag/304.
      const medtrust = await load(urlOf((app.server.address() as AddressInfo).port), path, bytes.length);
      const etag = String((await fetch(`${urlOf((app.server.address() as AddressInfo).port)}${path}`)).headers.get('etag'));
      const conditional = await load(urlOf((app.server.address() as AddressInfo).port), path, bytes.length, { etag });
      const fastify = await load(urlOf((plainFastify.server.address() as AddressInfo).port), path, bytes.length);
      const node = await load(urlOf((plainNode.address() as AddressInfo).port), path, bytes.length);
      const note = `keep-alive, ${CONNECTIONS} connections, ${DURATION_MS / 1000} s each; target >= 10000/s`;
      return [
        { name: 'timestamp.json checks (platform)', value: medtrust, unit: 'req/s', baseline: 'plain Fastify, same bytes', ratio: medtrust / fastify, note },
        { name: 'timestamp.json checks (platform)', value: medtrust, unit: 'req/s', baseline: 'plain node:http, same bytes', ratio: medtrust / node, note },
        { name: 'timestamp.json conditional checks, 304 (platform)', value: conditional, unit: 'req/s', baseline: 'plain Fastify, 200 with the bytes', ratio: conditional / fastify, note },
        { name: 'plain Fastify baseline', value: fastify, unit: 'req/s' },
        { name: 'plain node:http baseline', value: node, unit: 'req/s' },
      ];
    } finally {
      await app.close();
      await plainFastify.close();
      plainNode.close();
    }
  } finally {
    await t.close();
  }
}
