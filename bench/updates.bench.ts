// Update checks served per second by one node: GET /tuf/metadata/timestamp.json over keep-alive,
// through the platform's HTTP stack, against a plain Fastify and a plain node:http server that
// return the same bytes. The load generator runs in a worker thread (undici, 32 connections) so
// it has its own core; all three servers are measured the same way in the same run.
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';
import Fastify from 'fastify';
import { Registry } from 'prom-client';
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

const LOAD = `
const { parentPort, workerData } = require('node:worker_threads');
const { Pool } = require('undici');
(async () => {
  const pool = new Pool(workerData.url, { connections: workerData.connections, pipelining: 1 });
  let ok = 0, bad = 0;
  const end = Date.now() + workerData.durationMs;
  const loop = async () => {
    while (Date.now() < end) {
      const r = await pool.request({ path: workerData.path, method: 'GET' });
      const body = Buffer.from(await r.body.arrayBuffer());
      if (r.statusCode === 200 && body.length === workerData.length) ok++; else bad++;
    }
  };
  const t0 = Date.now();
  await Promise.all(Array.from({ length: workerData.connections }, loop));
  const s = (Date.now() - t0) / 1000;
  await pool.close();
  parentPort.postMessage({ perSecond: ok / s, bad });
})();
`;

async function load(url: string, path: string, length: number): Promise<number> {
  const w = new Worker(LOAD, { eval: true, workerData: { url, path, length, durationMs: DURATION_MS, connections: CONNECTIONS } });
  const [r] = (await once(w, 'message')) as [{ perSecond: number; bad: number }];
  await w.terminate();
  if (r.bad > 0) throw new Error(`${r.bad} bad responses from ${url}`);
  return r.perSecond;
}

export async function run(): Promise<BenchRow[]> {
  const t = await createTestDatabase('sqlite');
  try {
    await migrateToLatest(t.db, 'sqlite', allMigrations);
    const audit = new DbAuditLog({ db: t.db, dialect: 'sqlite' });
    const updates = createUpdates({ db: t.db, dialect: 'sqlite', dataDir: t.dataDir, keyStore: new TestKeyStore(), audit });
    await updates.ceremony.initialise('bench');
    const app = await buildHttpApp({ logger: createLogger({ level: 'silent' }), metrics: new Registry(), ready: async () => true, routes: [updates.tufRoutes], version: 'bench' });
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
      const medtrust = await load(urlOf((app.server.address() as AddressInfo).port), path, bytes.length);
      const fastify = await load(urlOf((plainFastify.server.address() as AddressInfo).port), path, bytes.length);
      const node = await load(urlOf((plainNode.address() as AddressInfo).port), path, bytes.length);
      const note = `keep-alive, ${CONNECTIONS} connections, ${DURATION_MS / 1000} s each; target >= 10000/s`;
      return [
        { name: 'timestamp.json checks (platform)', value: medtrust, unit: 'req/s', baseline: 'plain Fastify, same bytes', ratio: medtrust / fastify, note },
        { name: 'timestamp.json checks (platform)', value: medtrust, unit: 'req/s', baseline: 'plain node:http, same bytes', ratio: medtrust / node, note },
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
