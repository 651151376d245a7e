import 'reflect-metadata';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { TenantService, TokenService } from '../access/index.ts';
import { DbAuditLog } from '../audit/index.ts';
import { migrateToLatest } from '../db/index.ts';
import { createTestDatabase, TEST_DIALECTS, type TestDatabase } from '../db/testing.ts';
import { buildHttpApp } from '../http/index.ts';
import { createLogger } from '../logging/index.ts';
import { allMigrations } from '../migrations.ts';
import { PatientService, PhiCipher } from '../patients/index.ts';
import { FhirPushService } from './fhir-push-service.ts';
import { fhirPushRoutes } from './fhir-push-routes.ts';

for (const dialect of TEST_DIALECTS) {
  describe(`FHIR push configuration routes (${dialect})`, () => {
    let t: TestDatabase;
    let app: FastifyInstance;
    const tok: Record<string, string> = {};
    const secret = 'Bearer ehr-secret-credential-42';

    before(async () => {
      t = await createTestDatabase(dialect);
      await migrateToLatest(t.db, dialect, allMigrations);
      const audit = new DbAuditLog({ db: t.db, dialect });
      const tenants = new TenantService({ db: t.db });
      await tenants.ensureOperator();
      const a = await tenants.create({ kind: 'customer', name: 'Hospital A' });
      const b = await tenants.create({ kind: 'customer', name: 'Hospital B' });
      const tokens = new TokenService({ db: t.db, audit });
      tok.adminA = (await tokens.create({ tenantId: a, role: 'hospital-admin', name: 'a', createdBy: 'test' })).token;
      tok.adminB = (await tokens.create({ tenantId: b, role: 'hospital-admin', name: 'b', createdBy: 'test' })).token;
      tok.clinicianA = (await tokens.create({ tenantId: a, role: 'clinician', name: 'c', createdBy: 'test' })).token;
      const cipher = new PhiCipher(randomBytes(32), randomBytes(32));
      const patients = new PatientService({ db: t.db, audit, cipher: async () => cipher });
      const key = randomBytes(32);
      const push = new FhirPushService({ db: t.db, audit, patients, secretKey: async () => key });
      app = await buildHttpApp({ logger: createLogger({ level: 'silent' }), metrics: new Registry(), ready: async () => true, version: 'test', routes: [fhirPushRoutes({ tokens, push })] });
    });
    after(async () => {
      await app.close();
      await t.close();
    });

    const call = async (method: 'GET' | 'PUT', token: string | undefined, body?: unknown) => {
      const r = await app.inject({ method, url: '/api/v1/fhir-push', headers: token ? { authorization: `Bearer ${token}` } : {}, ...(body !== undefined ? { payload: body as object } : {}) });
      return { status: r.statusCode, body: r.json<Record<string, unknown> & { error?: { code: string } }>() };
    };

    describe('when a hospital admin configures the endpoint', () => {
      it('stores it for their tenant only, with the credential sealed and never returned or audited', async () => {
        assert.equal((await call('GET', tok.adminA)).body.error?.code, 'FHIR_ENDPOINT_NOT_FOUND');
        const r = await call('PUT', tok.adminA, { baseUrl: 'https://ehr.example.org/fhir/', authorization: secret });
        assert.equal(r.status, 200, JSON.stringify(r.body));
        assert.equal(r.body.baseUrl, 'https://ehr.example.org/fhir');
        assert.equal(r.body.lastError, null);
        assert.ok(!JSON.stringify(r.body).includes('ehr-secret'));
        const row = await t.db.selectFrom('fhir_endpoint').selectAll().executeTakeFirstOrThrow();
        assert.ok(row.auth_enc && !Buffer.from(row.auth_enc).toString('latin1').includes('ehr-secret'), 'sealed at rest');
        const audit = await t.db.selectFrom('audit_entry').select(['action', 'details']).where('action', '=', 'fhir.push.configured').execute();
        assert.equal(audit.length, 1);
        assert.ok(!String(audit[0]!.details).includes('ehr-secret'));
        assert.equal((await call('GET', tok.adminA)).body.baseUrl, 'https://ehr.example.org/fhir');
        assert.equal((await call('GET', tok.adminB)).body.error?.code, 'FHIR_ENDPOINT_NOT_FOUND', 'tenant B does not see A\'s endpoint');
      });
    });

    describe('when the request is not allowed or not valid', () => {
      it('answers 401 without a token and 403 to a clinician, changing nothing', async () => {
        assert.equal((await call('PUT', undefined, { baseUrl: 'https://evil.example' })).status, 401);
        const r = await call('PUT', tok.clinicianA, { baseUrl: 'https://evil.example' });
        assert.equal(r.status, 403);
        assert.equal((await call('GET', tok.adminA)).body.baseUrl, 'https://ehr.example.org/fhir');
      });
      it('refuses plain http to a remote host, credentials in the URL and non-URLs with FHIR_ENDPOINT_INVALID', async () => {
        for (const baseUrl of ['http://ehr.example.org/fhir', 'https://user:pw@ehr.example.org/fhir', 'x', 'ftp://ehr.example.org']) {
          const r = await call('PUT', tok.adminA, { baseUrl });
          assert.equal(r.body.error?.code, 'FHIR_ENDPOINT_INVALID', baseUrl);
          assert.equal(r.status, 400);
        }
        assert.equal((await call('PUT', tok.adminA, { baseUrl: 'https://x.example', extra: 1 })).status, 400);
        assert.equal((await call('GET', tok.adminA)).body.baseUrl, 'https://ehr.example.org/fhir', 'previous endpoint kept');
        assert.equal((await call('PUT', tok.adminA, { baseUrl: 'http://127.0.0.1:9/fhir' })).status, 200, 'http to localhost is allowed (tests, sidecars)');
      });
    });
  });
}
