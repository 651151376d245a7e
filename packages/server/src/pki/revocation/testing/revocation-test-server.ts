// Test helper: a real HTTP server (port 0) with the revocation, CRL, OCSP and certificate routes
// over a real database of either dialect and the test CA hierarchy.
import type { AddressInfo } from 'node:net';
import { ManualClock } from '@medtrust/core';
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { TenantService, TokenService } from '../../../access/index.ts';
import { DbAuditLog } from '../../../audit/index.ts';
import { migrateToLatest, type SqlDialectName } from '../../../db/index.ts';
import { createTestDatabase, type TestDatabase } from '../../../db/testing.ts';
import { DbEventBus } from '../../../events/index.ts';
import { buildHttpApp } from '../../../http/index.ts';
import { createLogger } from '../../../logging/index.ts';
import { allMigrations } from '../../../migrations.ts';
import { CrlService } from '../../crl/index.ts';
import { OcspResponder } from '../../ocsp/index.ts';
import { certificateRoutes, publicPkiRoutes } from '../../routes/index.ts';
import { CertificateQueries } from '../certificate-queries.ts';
import { RevocationService } from '../revocation-service.ts';
import { createTestPki, type TestPki } from './test-pki.ts';

export interface RevocationTestServer {
  readonly t: TestDatabase;
  readonly pki: TestPki;
  readonly app: FastifyInstance;
  readonly url: string;
  readonly clock: ManualClock;
  readonly events: DbEventBus;
  readonly audit: DbAuditLog;
  readonly tenants: TenantService;
  readonly tokens: TokenService;
  readonly revocation: RevocationService;
  readonly crls: CrlService;
  readonly ocsp: OcspResponder;
  readonly metrics: Registry;
  close(): Promise<void>;
}

export async function startRevocationTestServer(dialect: SqlDialectName, opts: { cacheSeconds?: number } = {}): Promise<RevocationTestServer> {
  const t = await createTestDatabase(dialect);
  await migrateToLatest(t.db, dialect, allMigrations);
  // The clock follows real time (openssl checks response times against its own clock) but tests may move it.
  const clock = new ManualClock(Date.now());
  const tick = setInterval(() => clock.set(Math.max(clock.nowMs(), Date.now())), 50);
  tick.unref();
  const logger = createLogger({ level: 'silent' });
  const db = t.db;
  const audit = new DbAuditLog({ db, dialect, clock });
  const events = new DbEventBus({ db, clock, pollMs: 50 });
  const tenants = new TenantService({ db, clock });
  const tokens = new TokenService({ db, audit, clock });
  const pki = await createTestPki(db, clock.nowMs());
  const metrics = new Registry();
  const revocation = new RevocationService({ db, audit, events, clock });
  const crls = new CrlService({ db, cas: pki.cas, events, clock, validityHours: 24, logger });
  const ocsp = new OcspResponder({ db, cas: pki.cas, events, clock, cacheSeconds: opts.cacheSeconds ?? 3600, logger, metrics });
  const unsubscribe = [crls.listen(), ocsp.listen()];
  const app = await buildHttpApp({
    logger, metrics, version: 'test', ready: async () => true,
    routes: [publicPkiRoutes({ crls, ocsp, cas: pki.cas }), certificateRoutes({ tokens, queries: new CertificateQueries({ db }), revocation })],
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  await events.start();
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return {
    t, pki, app, url, clock, events, audit, tenants, tokens, revocation, crls, ocsp, metrics,
    close: async () => {
      clearInterval(tick);
      for (const u of unsubscribe) u();
      events.stop();
      await app.close();
      await t.close();
    },
  };
}
