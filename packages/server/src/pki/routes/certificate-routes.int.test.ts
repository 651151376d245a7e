import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_DIALECTS } from '../../db/testing.ts';
import { type RevocationTestServer, startRevocationTestServer } from '../revocation/testing/revocation-test-server.ts';
import type { IssuedTestCert } from '../revocation/testing/real-issuer.ts';

interface ErrorReply { error: { code: string } }

for (const dialect of TEST_DIALECTS) {
  describe(`certificate REST routes (${dialect})`, () => {
    let s: RevocationTestServer;
    let operator: string;
    let hospitalA: string;
    let hospitalB: string;
    let siteA: string;
    let clinicianA: string;
    let certA: IssuedTestCert;
    let certA2: IssuedTestCert;
    let certB: IssuedTestCert;

    const call = async (token: string | undefined, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> => {
      const headers: Record<string, string> = {};
      if (token) headers.authorization = `Bearer ${token}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const r = await fetch(`${s.url}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      return { status: r.status, json: await r.json() };
    };
    const code = (r: { json: unknown }): string => (r.json as ErrorReply).error.code;

    before(async () => {
      s = await startRevocationTestServer(dialect);
      const op = await s.tenants.ensureOperator();
      const a = await s.tenants.create({ kind: 'customer', name: 'Hospital A' });
      const aSite = await s.tenants.create({ kind: 'site', name: 'Hospital A ICU', parentId: a });
      const b = await s.tenants.create({ kind: 'customer', name: 'Hospital B' });
      certA = await s.pki.issue({ ca: 'operational', tenantId: a });
      certA2 = await s.pki.issue({ ca: 'manufacturing', tenantId: a });
      certB = await s.pki.issue({ ca: 'operational', tenantId: b });
      // The site of hospital A holds the device of certA (claims set site_id; done directly here).
      await s.stack.t.db.updateTable('device').set({ site_id: aSite }).where('id', '=', certA.deviceId!).execute();
      const tok = async (tenantId: string, role: string): Promise<string> => (await s.tokens.create({ tenantId, role, name: 't', createdBy: 'test' })).token;
      operator = await tok(op, 'operator-admin');
      hospitalA = await tok(a, 'hospital-admin');
      hospitalB = await tok(b, 'biomed');
      siteA = await tok(aSite, 'biomed');
      clinicianA = await tok(a, 'clinician');
    });
    after(() => s.close());

    it('lets the operator list, filter and read any certificate', async () => {
      const all = await call(operator, 'GET', '/api/v1/certificates?limit=1000');
      assert.equal(all.status, 200);
      const serials = (all.json as { certificates: { serial: string }[] }).certificates.map((c) => c.serial);
      for (const c of [certA, certA2, certB]) assert.ok(serials.includes(c.serial));
      const byDevice = await call(operator, 'GET', `/api/v1/certificates?deviceId=${certB.deviceId!}`);
      assert.deepEqual((byDevice.json as { certificates: { serial: string }[] }).certificates.map((c) => c.serial), [certB.serial]);
      const one = await call(operator, 'GET', `/api/v1/certificates/${certB.serial.toUpperCase()}`);
      assert.equal(one.status, 200);
      const body = one.json as { serial: string; pem: string; status: string; deviceId: string; caName: string };
      assert.equal(body.serial, certB.serial);
      assert.equal(body.pem.trim(), certB.pem.trim());
      assert.equal(body.status, 'valid');
      assert.equal(body.caName, 'operational');
    });

    it('scopes a customer to its own tenant and a site to its devices: others are 404', async () => {
      const listA = await call(hospitalA, 'GET', '/api/v1/certificates');
      assert.deepEqual((listA.json as { certificates: { serial: string }[] }).certificates.map((c) => c.serial).sort(), [certA.serial, certA2.serial].sort());
      const listB = await call(hospitalB, 'GET', '/api/v1/certificates');
      assert.deepEqual((listB.json as { certificates: { serial: string }[] }).certificates.map((c) => c.serial), [certB.serial]);
      const site = await call(siteA, 'GET', '/api/v1/certificates');
      assert.deepEqual((site.json as { certificates: { serial: string }[] }).certificates.map((c) => c.serial), [certA.serial]);
      const naughty = await call(hospitalA, 'GET', `/api/v1/certificates/${certB.serial}`);
      assert.equal(naughty.status, 404);
      assert.equal(code(naughty), 'CERT_NOT_FOUND');
      const naughtyList = await call(hospitalA, 'GET', `/api/v1/certificates?deviceId=${certB.deviceId!}`);
      assert.deepEqual((naughtyList.json as { certificates: unknown[] }).certificates, []);
      const naughtyRevoke = await call(hospitalA, 'POST', `/api/v1/certificates/${certB.serial}/revoke`, { reason: 'keyCompromise' });
      assert.equal(naughtyRevoke.status, 404);
      assert.equal(code(naughtyRevoke), 'CERT_NOT_FOUND');
      const siteOther = await call(siteA, 'GET', `/api/v1/certificates/${certB.serial}`);
      assert.equal(siteOther.status, 404);
      const row = await s.stack.t.db.selectFrom('certificate').select('status').where('serial', '=', certB.serial).executeTakeFirstOrThrow();
      assert.equal(row.status, 'valid', 'the other tenant\'s certificate is untouched');
    });

    it('requires a token and the permission', async () => {
      assert.equal(code(await call(undefined, 'GET', '/api/v1/certificates')), 'UNAUTHENTICATED');
      assert.equal(code(await call('mt_tok_bogus.bogus', 'GET', '/api/v1/certificates')), 'TOKEN_INVALID');
      const forbidden = await call(clinicianA, 'GET', `/api/v1/certificates/${certA.serial}`);
      assert.equal(forbidden.status, 403);
      assert.equal(code(forbidden), 'FORBIDDEN');
      assert.equal(code(await call(clinicianA, 'POST', `/api/v1/certificates/${certA.serial}/revoke`, { reason: 'keyCompromise' })), 'FORBIDDEN');
    });

    it('revokes for the tenant, then refuses twice, bad reasons and bad bodies with codes', async () => {
      assert.equal(code(await call(hospitalA, 'POST', `/api/v1/certificates/${certA.serial}/revoke`, { reason: 'removeFromCRL' })), 'REVOCATION_REASON_INVALID');
      assert.equal(code(await call(hospitalA, 'POST', `/api/v1/certificates/${certA.serial}/revoke`, {})), 'REQUEST_INVALID');
      assert.equal(code(await call(hospitalA, 'POST', `/api/v1/certificates/${certA.serial}/revoke`, { reason: 'keyCompromise', extra: 1 })), 'REQUEST_INVALID');
      assert.equal(code(await call(hospitalA, 'POST', '/api/v1/certificates/not-hex/revoke', { reason: 'keyCompromise' })), 'REQUEST_INVALID');
      const ok = await call(hospitalA, 'POST', `/api/v1/certificates/${certA.serial}/revoke`, { reason: 'keyCompromise' });
      assert.equal(ok.status, 200);
      assert.equal((ok.json as { reason: string }).reason, 'keyCompromise');
      const again = await call(operator, 'POST', `/api/v1/certificates/${certA.serial}/revoke`, { reason: 'superseded' });
      assert.equal(again.status, 409);
      assert.equal(code(again), 'CERT_ALREADY_REVOKED');
      const shown = await call(hospitalA, 'GET', `/api/v1/certificates/${certA.serial}`);
      assert.equal((shown.json as { status: string; revocationReason: string }).status, 'revoked');
      assert.equal((shown.json as { revocationReason: string }).revocationReason, 'keyCompromise');
      const revoked = await call(hospitalA, 'GET', '/api/v1/certificates?status=revoked');
      assert.deepEqual((revoked.json as { certificates: { serial: string }[] }).certificates.map((c) => c.serial), [certA.serial]);
      const audit = await s.stack.t.db.selectFrom('audit_entry').select(['actor', 'tenant_id']).where('action', '=', 'pki.certificate.revoked').where('target', '=', `certificate:${certA.serial}`).where('outcome', '=', 'success').execute();
      assert.equal(audit.length, 1);
      assert.match(audit[0]!.actor, /^token:tok_/);
    });

    it('documents the routes in OpenAPI', async () => {
      const r = await fetch(`${s.url}/docs/json`);
      const doc = (await r.json()) as { paths: Record<string, unknown> };
      for (const p of ['/api/v1/certificates', '/api/v1/certificates/{serial}', '/api/v1/certificates/{serial}/revoke', '/ocsp', '/pki/crl/{file}']) assert.ok(doc.paths[p], p);
    });
  });
}
