// Test helper: a real HTTP server (port 0) with the revocation, CRL, OCSP and certificate routes,
// over a real database of either dialect and the production CA hierarchy and issuance service.
import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { systemClock } from '@medtrust/core';
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { TenantService, TokenService } from '../../../access/index.ts';
import type { SqlDialectName } from '../../../db/index.ts';
import { buildHttpApp } from '../../../http/index.ts';
import { createLogger } from '../../../logging/index.ts';
import { CrlService } from '../../crl/index.ts';
import { OcspResponder } from '../../ocsp/index.ts';
import { certificateRoutes, ocspFastPath, publicPkiRoutes } from '../../routes/index.ts';
import { createPkiTestStack, type PkiTestStack } from '../../testing/pki-test-stack.ts';
import { CertificateQueries } from '../certificate-queries.ts';
import { RevocationService } from '../revocation-service.ts';
import { createRealIssuer, type RealIssuer } from './real-issuer.ts';

export interface RevocationTestServer {
  readonly stack: PkiTestStack;
  readonly pki: RealIssuer;
  readonly app: FastifyInstance;
  readonly url: string;
  readonly tenants: TenantService;
  readonly tokens: TokenService;
  readonly revocation: RevocationService;
  readonly crls: CrlService;
  readonly ocsp: OcspResponder;
  readonly metrics: Registry;
  close(): Promise<void>;
}

/** `fastPath: false` serves OCSP through the Fastify routes only, as an app without the fast path would. */
export async function startRevocationTestServer(dialect: SqlDialectName, opts: { cacheSeconds?: number; fastPath?: boolean } = {}): Promise<RevocationTestServer> {
  // Real time: openssl checks thisUpdate/nextUpdate against its own clock.
  const stack = await createPkiTestStack(dialect, { clock: systemClock });
  const { t, audit, events, cas } = stack;
  const db = t.db;
  const logger = createLogger({ level: 'silent' });
  const tenants = new TenantService({ db });
  const tokens = new TokenService({ db, audit });
  const metrics = new Registry();
  const revocation = new RevocationService({ db, audit, events });
  const crls = new CrlService({ db, cas, events, validityHours: 24, logger });
  const ocsp = new OcspResponder({ db, cas, events, cacheSeconds: opts.cacheSeconds ?? 3600, logger, metrics });
  const unsubscribe = [crls.listen(), ocsp.listen()];
  const app = await buildHttpApp({
    logger, metrics, version: 'test', ready: async () => true,
    ...(opts.fastPath === false ? {} : { fastPaths: [ocspFastPath(ocsp)] }),
    routes: [publicPkiRoutes({ crls, ocsp, cas }), certificateRoutes({ tokens, queries: new CertificateQueries({ db }), revocation })],
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  await events.start();
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return {
    stack, pki: await createRealIssuer(stack), app, url, tenants, tokens, revocation, crls, ocsp, metrics,
    close: async () => {
      for (const u of unsubscribe) u();
      await app.close();
      await stack.close();
    },
  };
}
