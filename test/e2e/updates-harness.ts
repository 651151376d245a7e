import 'reflect-metadata';
// Test harness for the updates e2e tests: a real HTTP server on 127.0.0.1:0 with the release
// API and the TUF repository on a real database (SQLite or PostgreSQL), keys from TestKeyStore.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { type Clock, newId } from '@medtrust/core';
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { TenantService, TokenService } from '../../packages/server/src/access/index.ts';
import { DbAuditLog } from '../../packages/server/src/audit/index.ts';
import { migrateToLatest, type SqlDialectName } from '../../packages/server/src/db/index.ts';
import { createTestDatabase, type TestDatabase } from '../../packages/server/src/db/testing.ts';
import { buildHttpApp, requirePermission } from '../../packages/server/src/http/index.ts';
import { createLogger } from '../../packages/server/src/logging/index.ts';
import { allMigrations } from '../../packages/server/src/migrations.ts';
import { createUpdates, type Updates } from '../../packages/server/src/updates/index.ts';
import { VulnService } from '../../packages/server/src/vulns/index.ts';
import { DeviceRegistry } from '../../packages/server/src/devices/index.ts';
import { LocalEventBus } from '../../packages/server/src/events/index.ts';
import { TestKeyStore } from '../../packages/server/src/updates/test-key-store.ts';

/** JSON bodies from the API under test, checked field by field by the tests. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- arbitrary JSON under test
export type Json = any;

export interface UpdatesHarness {
  readonly t: TestDatabase;
  readonly updates: Updates;
  readonly keyStore: TestKeyStore;
  readonly url: string;
  readonly token: string;
  readonly tenantId: string;
  readonly app: FastifyInstance;
  readonly tokens: TokenService;
  /** Files in the artifact store (content-addressed). */
  artifactFiles(): string[];
  /** POSTs a raw artifact as a new draft release; returns status and JSON body. */
  upload(query: Record<string, string | string[]>, body: Buffer, token?: string): Promise<{ status: number; body: Json }>;
  call(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: Json }>;
  /** Creates, approves and publishes a release; returns its JSON. */
  publish(model: string, version: string, fileName: string, bytes: Buffer): Promise<Json>;
  close(): Promise<void>;
}

export async function startUpdatesHarness(opts: { dialect: SqlDialectName; clock?: Clock; models?: readonly string[]; maxArtifactBytes?: number; algorithm?: 'ed25519' | 'ec-p256' }): Promise<UpdatesHarness> {
  const t = await createTestDatabase(opts.dialect);
  await migrateToLatest(t.db, opts.dialect, allMigrations);
  const audit = new DbAuditLog({ db: t.db, dialect: opts.dialect, clock: opts.clock });
  const tenantId = await new TenantService({ db: t.db, clock: opts.clock }).ensureOperator();
  const tokens = new TokenService({ db: t.db, audit, clock: opts.clock });
  const token = (await tokens.create({ tenantId, role: 'release-manager', name: 'test', createdBy: 'test' })).token;
  const now = Date.now();
  for (const model of opts.models ?? ['pump-a', 'pump-b']) {
    await t.db.insertInto('device').values({ id: newId('dev'), serial: `SN-${model}`, model, hardware_revision: 'A', tenant_id: tenantId, site_id: null, state: 'active', firmware_version: null, batch_id: null, created_at: now, updated_at: now }).execute();
  }
  const keyStore = new TestKeyStore();
  const registry = new DeviceRegistry({ db: t.db, audit, events: new LocalEventBus(), clock: opts.clock });
  const vulns = new VulnService({ db: t.db, audit, clock: opts.clock });
  const updates = createUpdates({ db: t.db, dialect: opts.dialect, dataDir: t.dataDir, keyStore, audit, clock: opts.clock, maxArtifactBytes: opts.maxArtifactBytes, algorithm: opts.algorithm, campaignEvaluationIntervalMs: 0, sbomImporter: (o) => vulns.importSbom(o), recordFirmware: (id, v, actor) => registry.recordFirmware(id, v, actor) });
  await updates.ceremony.initialise('test');
  const app = await buildHttpApp({ logger: createLogger({ level: 'silent' }), metrics: new Registry(), ready: async () => true, routes: [updates.tufRoutes, updates.releaseRoutes({ manage: requirePermission(tokens, 'release:manage'), read: requirePermission(tokens, 'release:read') }), updates.deviceTagRoutes({ manage: requirePermission(tokens, 'device:manage'), read: requirePermission(tokens, 'device:read') })], fastPaths: [updates.tufFastPath], version: 'test' });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const call = async (method: string, path: string, body?: unknown, tok = token): Promise<{ status: number; body: Json }> => {
    const r = await fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${tok}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: r.status, body: await r.json().catch(() => null) };
  };
  const upload = async (query: Record<string, string | string[]>, body: Buffer, tok = token): Promise<{ status: number; body: Json }> => {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) for (const x of Array.isArray(v) ? v : [v]) qs.append(k, x);
    const r = await fetch(`${url}/api/v1/releases?${qs}`, { method: 'POST', headers: { authorization: `Bearer ${tok}`, 'content-type': 'application/octet-stream' }, body: new Uint8Array(body) });
    return { status: r.status, body: await r.json().catch(() => null) };
  };
  return {
    t, updates, keyStore, url, token, tenantId, app, call, upload, tokens,
    artifactFiles() {
      const root = join(t.dataDir, 'artifacts', 'sha256');
      return readdirSync(root).flatMap((d) => readdirSync(join(root, d)).map((f) => `${d}/${f}`)).sort();
    },
    async publish(model, version, fileName, bytes) {
      const c = await upload({ model, version, fileName }, bytes);
      if (c.status !== 201) throw new Error(`create failed: ${JSON.stringify(c.body)}`);
      for (const step of ['approve', 'publish']) {
        const r = await call('POST', `/api/v1/releases/${c.body.id}/${step}`);
        if (r.status !== 200) throw new Error(`${step} failed: ${JSON.stringify(r.body)}`);
      }
      return (await call('GET', `/api/v1/releases/${c.body.id}`)).body;
    },
    async close() {
      await app.close();
      await t.close();
    },
  };
}
