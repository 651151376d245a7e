// Update checks served per second by one node: GET /tuf/metadata/timestamp.json over keep-alive
// (plain and conditional, If-None-Match -> 304),
// through the platform's HTTP stack, against a plain Fastify and a plain node:http server that
// return the same bytes. The load generator runs in a worker thread (raw keep-alive sockets, 32
// connections) so it has its own core; all three servers are measured the same way in the same run.
// Second part: one release rolled through 10,000 simulated devices (desired state + status
// report each, 50 at a time): platform CPU per device against a bare SQLite update per device,
// and the time one phase decision (count of the open phases) takes at that size.
// Third part: desired-state checks over HTTPS (GET /device/v1/updates/desired) with mTLS through
// the running platform's :8443 device listener (`Platform.start`), a few hundred devices with
// their own LDevIDs and a campaign pending, against a plain node:https server with the same TLS
// settings returning the same bytes; TLS keep-alive load from the same worker load generator (keepalive-load.ts).
import 'reflect-metadata';
import { generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { createServer } from 'node:http';
import { createServer as createHttpsServer, get as httpsGet } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { Registry } from 'prom-client';
import { TenantService } from '../packages/server/src/access/index.ts';
import { DbAuditLog } from '../packages/server/src/audit/index.ts';
import { migrateToLatest, type SqlDialectName } from '../packages/server/src/db/index.ts';
import { createTestDatabase, type TestDatabase } from '../packages/server/src/db/testing.ts';
import { buildHttpApp } from '../packages/server/src/http/index.ts';
import { createLogger } from '../packages/server/src/logging/index.ts';
import { allMigrations } from '../packages/server/src/migrations.ts';
import { createUpdates, type Updates } from '../packages/server/src/updates/index.ts';
import { TestKeyStore } from '../packages/server/src/updates/test-key-store.ts';
import { newKeyAndCsr } from '../packages/device/src/index.ts';
import { loadConfig, Platform } from '../packages/server/src/index.ts';
import type { BenchRow } from './bench-row.ts';
import { keepAliveLoad } from './keepalive-load.ts';

const DURATION_MS = 4000;
const CONNECTIONS = 32;

async function load(url: string, path: string, length: number, conditional?: { etag: string }): Promise<number> {
  const r = await keepAliveLoad({ port: Number(new URL(url).port), path, length: conditional ? 0 : length, status: conditional ? 304 : 200, headers: conditional ? { 'if-none-match': conditional.etag } : {}, durationMs: DURATION_MS, connections: CONNECTIONS });
  return r.perSecond;
}

const FLEET = 10_000;

/** The updates domain on a migrated database with FLEET active `pump-z` devices and a published 2.0.0 for them. */
async function seedFleet(t: TestDatabase, dialect: SqlDialectName): Promise<{ updates: Updates; ids: string[]; rel: { id: string } }> {
  await migrateToLatest(t.db, dialect, allMigrations);
  const audit = new DbAuditLog({ db: t.db, dialect });
  const updates = createUpdates({ db: t.db, dialect, dataDir: t.dataDir, keyStore: new TestKeyStore(), audit });
  await updates.ceremony.initialise('bench');
  const tenant = await new TenantService({ db: t.db }).ensureOperator();
  const ids = Array.from({ length: FLEET }, (_, i) => `dev_b${String(i).padStart(6, '0')}`);
  for (let i = 0; i < FLEET; i += 500) {
    await t.db.insertInto('device').values(ids.slice(i, i + 500).map((id) => ({ id, serial: id, model: 'pump-z', hardware_revision: 'A', tenant_id: tenant, site_id: null, state: 'active' as const, firmware_version: '1.0.0', batch_id: null, created_at: 0, updated_at: 0 }))).execute();
  }
  const rel = await updates.releases.create({ tenantId: tenant, models: ['pump-z'], version: '2.0.0', fileName: 'fw.bin', artifact: Buffer.from('fw'), actor: 'bench' });
  await updates.releases.transition(rel.id, 'approve', 'bench');
  await updates.releases.transition(rel.id, 'publish', 'bench');
  return { updates, ids, rel };
}

async function campaignRows(): Promise<BenchRow[]> {
  const t = await createTestDatabase('sqlite');
  try {
    const { updates, ids, rel } = await seedFleet(t, 'sqlite');
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
      { name: `desired-state lookups (${FLEET} devices, SQLite)`, value: lookupsPerS, unit: 'lookups/s', note: 'in-process, 32 concurrent; one indexed join per lookup (MQTT check on connect), compiled once, cached statement; target >= 10000/s' },
    ];
  } finally {
    await t.close();
  }
}

export async function run(): Promise<BenchRow[]> {
  return [...(await checkRows()), ...(await httpsRows()), ...(await campaignRows()), ...(await postgresLookupRows())];
}

/** Desired-state lookups on PostgreSQL (same machine), against a single-table indexed read through the same pool. */
async function postgresLookupRows(): Promise<BenchRow[]> {
  const t = await createTestDatabase('postgres');
  try {
    const { updates, ids, rel } = await seedFleet(t, 'postgres');
    await updates.campaigns.create({ releaseId: rel.id, name: 'bench', selection: { model: 'pump-z' }, actor: 'bench' });
    const rate = async (f: (id: string) => Promise<unknown>): Promise<number> => {
      const n = 20_000;
      let i = 0;
      const t0 = performance.now();
      await Promise.all(Array.from({ length: 32 }, async () => {
        while (i < n) await f(ids[i++ % FLEET]!);
      }));
      return n / ((performance.now() - t0) / 1000);
    };
    await rate((id) => updates.campaigns.desiredFor(id));
    const lookups = await rate((id) => updates.campaigns.desiredFor(id));
    const floor = await rate((id) => t.db.selectFrom('campaign_device').select(['campaign_id', 'phase', 'status']).where('device_id', '=', id).execute());
    return [{ name: `desired-state lookups (${FLEET} devices, PostgreSQL)`, value: lookups, unit: 'lookups/s', baseline: 'single-table indexed read, same pool', ratio: lookups / floor, note: 'in-process, 32 concurrent, pool of 5; named prepared statement per connection; PostgreSQL on the same 2 cores' }];
  } finally {
    await t.close();
  }
}

const HTTPS_DEVICES = 320;
/** Requests per device before its connection moves on (a new handshake with the next LDevID). */
const REQUESTS_PER_DEVICE = 200;

async function httpsRows(): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'medtrust-bench-https-'));
  const env = { MEDTRUST_DATA_DIR: join(dir, 'data'), MEDTRUST_HTTP_PORT: '0', MEDTRUST_HTTPS_PORT: '0', MEDTRUST_MQTT_PORT: '0', MEDTRUST_MASTER_KEY: 'bench-https-updates-master-key-0123', MEDTRUST_LOG_LEVEL: 'silent' };
  const p = await Platform.open({ config: loadConfig(env), logger: createLogger({ level: 'silent' }) });
  try {
    const listening = await p.start();
    const s = p.services;
    const tenantId = await s.tenants.ensureOperator();
    const devices = await s.devices.createMany(Array.from({ length: HTTPS_DEVICES }, (_, i) => ({ serial: `HB-${i}`, model: 'pump-hb', hardwareRevision: 'A', tenantId })), 'bench');
    const creds: Array<{ cert: string; key: string }> = [];
    for (const d of devices) {
      const { keyPem, csrDer } = await newKeyAndCsr(d.id);
      creds.push({ cert: (await s.issuer.issueLdevid({ deviceId: d.id, csrDer, actor: 'bench' })).pem, key: keyPem });
    }
    await s.db.updateTable('device').set({ state: 'active' }).where('model', '=', 'pump-hb').execute();
    const rel = await s.updates.releases.create({ tenantId, models: ['pump-hb'], version: '2.0.0', fileName: 'fw.bin', artifact: Buffer.from('fw'), actor: 'bench' });
    await s.updates.releases.transition(rel.id, 'approve', 'bench');
    await s.updates.releases.transition(rel.id, 'publish', 'bench');
    await s.updates.campaigns.create({ releaseId: rel.id, name: 'bench https', selection: { model: 'pump-hb' }, phases: [100], actor: 'bench' });
    // Every device has the same pending install, so every answer is the same bytes.
    const bytes = Buffer.from(JSON.stringify(await s.updates.channel.desiredMessage(devices[0]!.id)));
    const rootPem = (await s.cas.get('root')).certificatePem;
    const clientCas = await Promise.all((['manufacturing', 'operational'] as const).map(async (n) => (await s.cas.get(n)).certificatePem));
    // The baseline: node:https with the listener's TLS settings and a server certificate of the same kind.
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const serverCert = await s.issuer.issueTlsServer({ hostnames: ['localhost'], ipAddresses: ['127.0.0.1'], publicKey });
    const plain = createHttpsServer({ key: privateKey.export({ type: 'pkcs8', format: 'pem' }), cert: serverCert.chainPem, ca: clientCas, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2' }, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': bytes.length });
      res.end(bytes);
    });
    plain.listen(0, '127.0.0.1');
    await once(plain, 'listening');
    try {
      const path = '/device/v1/updates/desired';
      const common = { path, durationMs: DURATION_MS, connections: CONNECTIONS, tls: { devices: creds, ca: rootPem, requestsPerDevice: REQUESTS_PER_DEVICE } };
      const platformPort = Number(new URL(listening.httpsUrl).port);
      const medtrust = await keepAliveLoad({ ...common, port: platformPort, status: 200, length: bytes.length });
      const etag = await new Promise<string>((resolve, reject) => {
        httpsGet({ host: '127.0.0.1', port: platformPort, path, ca: rootPem, cert: creds[0]!.cert, key: creds[0]!.key, agent: false }, (res) => {
          res.resume();
          resolve(String(res.headers.etag));
        }).on('error', reject);
      });
      const conditional = await keepAliveLoad({ ...common, port: platformPort, status: 304, length: 0, headers: { 'if-none-match': etag } });
      const node = await keepAliveLoad({ ...common, port: (plain.address() as AddressInfo).port, status: 200, length: bytes.length });
      const note = `mTLS keep-alive, ${CONNECTIONS} connections, ${HTTPS_DEVICES} devices with their own LDevID (new handshake every ${REQUESTS_PER_DEVICE} requests; ${medtrust.handshakes} handshakes), campaign pending; ${DURATION_MS / 1000} s each; target >= 10000/s`;
      return [
        { name: 'desired-state checks over HTTPS (platform :8443)', value: medtrust.perSecond, unit: 'req/s', baseline: 'plain node:https (requestCert), same bytes', ratio: medtrust.perSecond / node.perSecond, note },
        { name: 'desired-state conditional checks over HTTPS, 304 (platform :8443)', value: conditional.perSecond, unit: 'req/s', baseline: 'plain node:https (requestCert), 200 with the bytes', ratio: conditional.perSecond / node.perSecond, note },
        { name: 'plain node:https (requestCert) baseline', value: node.perSecond, unit: 'req/s' },
      ];
    } finally {
      plain.closeAllConnections();
      plain.close();
    }
  } finally {
    await p.stop();
    rmSync(dir, { recursive: true, force: true });
  }
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
