import 'reflect-metadata';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '@medtrust/core';
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { zipSync } from 'fflate';
import { TenantService, TokenService } from '../access/index.ts';
import { DbAuditLog } from '../audit/index.ts';
import { migrateToLatest } from '../db/index.ts';
import { createTestDatabase, TEST_DIALECTS, type TestDatabase } from '../db/testing.ts';
import { buildHttpApp, requirePermission } from '../http/index.ts';
import { createLogger } from '../logging/index.ts';
import { allMigrations } from '../migrations.ts';
import { fixturePath, fixtureText } from './fixtures/load-fixture.ts';
import { VulnService, vulnRoutes } from './index.ts';
import { validateCsaf } from './vex/validate-csaf.ts';

for (const dialect of TEST_DIALECTS) {
  describe(`vulnerability REST API (${dialect})`, () => {
    let t: TestDatabase;
    let app: FastifyInstance;
    let base = '';
    const tok: Record<string, string> = {};
    const clock = new ManualClock(Date.parse('2026-11-23T00:00:00Z'));

    before(async () => {
      t = await createTestDatabase(dialect);
      await migrateToLatest(t.db, dialect, allMigrations);
      const audit = new DbAuditLog({ db: t.db, dialect, clock });
      const tenants = new TenantService({ db: t.db, clock, audit });
      const tokens = new TokenService({ db: t.db, audit, clock });
      const op = await tenants.ensureOperator();
      const hospA = await tenants.create({ kind: 'customer', name: 'A' });
      const hospB = await tenants.create({ kind: 'customer', name: 'B' });
      const mk = async (tenantId: string, role: string) => (await tokens.create({ tenantId, role, name: role, createdBy: 'test' })).token;
      tok.admin = await mk(op, 'operator-admin');
      tok.analyst = await mk(op, 'security-analyst');
      tok.hospA = await mk(hospA, 'hospital-admin');
      tok.hospB = await mk(hospB, 'hospital-admin');
      tok.clinician = await mk(hospA, 'clinician');
      const dev = (id: string, tenant: string) => ({ id, serial: id, model: 'MON-1', hardware_revision: 'r1', tenant_id: tenant, site_id: null, state: 'active' as const, firmware_version: '1.0', batch_id: null, created_at: 0, updated_at: 0 });
      await t.db.insertInto('device').values([dev('dev-a', hospA)]).execute();
      const vulns = new VulnService({ db: t.db, audit, clock });
      app = await buildHttpApp({
        logger: createLogger({ level: process.env.TEST_LOG ?? 'silent' }), metrics: new Registry(), version: 't', ready: async () => true,
        routes: [vulnRoutes({ vulns, guard: (p) => requirePermission(tokens, p) })],
      });
      await app.listen({ host: '127.0.0.1', port: 0 });
      base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    });
    after(async () => {
      await app.close();
      await t.close();
    });

    const call = async (method: string, path: string, token: string | undefined, body?: unknown) => {
      const res = await fetch(`${base}${path}`, { method, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      const text = await res.text();
      return { status: res.status, json: text ? (JSON.parse(text) as Record<string, any>) : {} }; // eslint-disable-line @typescript-eslint/no-explicit-any -- test reads response JSON
    };

    it('imports an SBOM and feeds (zip with a bad record) and lists the firmware vulnerabilities', async () => {
      const sbom = JSON.parse(fixtureText('sbom/medical-device-case-study_extended.cdx.json'));
      assert.equal((await call('POST', '/api/v1/sboms', tok.hospA, { model: 'MON-1', firmwareVersion: '1.0', document: sbom })).json.error.code, 'FORBIDDEN');
      const r = await call('POST', '/api/v1/sboms', tok.analyst, { model: 'MON-1', firmwareVersion: '1.0', document: sbom });
      assert.equal(r.status, 201);
      assert.equal(r.json.components, 65);
      const zip = zipSync({ 'a.json': readFileSync(fixturePath('nvd/CVE-2018-16525.json')), 'bad.json': new TextEncoder().encode('{"id": 5}') });
      const f = await call('POST', '/api/v1/feeds/import', tok.analyst, { files: [{ name: 'dump.zip', contentBase64: Buffer.from(zip).toString('base64') }, { name: 'epss.csv', content: fixtureText('epss/epss_scores-excerpt.csv') }] });
      assert.equal(f.status, 200);
      assert.equal(f.json.advisories.imported, 1);
      assert.equal(f.json.rejected.length, 1);
      assert.equal(f.json.epss, 46);
      const v = await call('GET', '/api/v1/vulnerabilities?model=MON-1&version=1.0', tok.hospA);
      assert.equal(v.status, 200);
      assert.equal(v.json.devices, 1);
      assert.equal(v.json.vulnerabilities[0].vulnId, 'CVE-2018-16525');
      assert.equal(v.json.vulnerabilities[0].status, 'unknown');
    });

    it('refuses a broken SBOM with SBOM_INVALID and its reasons', async () => {
      const r = await call('POST', '/api/v1/sboms', tok.analyst, { model: 'MON-1', firmwareVersion: '1.0', document: { bomFormat: 'CycloneDX', specVersion: '1.5', components: [{ name: 'x' }] } });
      assert.equal(r.status, 400);
      assert.equal(r.json.error.code, 'SBOM_INVALID');
      assert.ok(r.json.error.details.reasons.length > 0);
      assert.equal((await call('GET', '/api/v1/vulnerabilities?model=MON-1&version=1.0', tok.admin)).json.vulnerabilities.length, 1, 'stored SBOM and matches intact');
    });

    it('scopes devices and firmware to the caller tenant', async () => {
      const mine = await call('GET', '/api/v1/devices/dev-a/vulnerabilities', tok.hospA);
      assert.equal(mine.status, 200);
      assert.ok(Array.isArray(mine.json.risk.explanation));
      const other = await call('GET', '/api/v1/devices/dev-a/vulnerabilities', tok.hospB);
      assert.equal(other.status, 404);
      assert.equal(other.json.error.code, 'VULN_DEVICE_NOT_FOUND');
      assert.equal((await call('GET', '/api/v1/vulnerabilities?model=MON-1&version=1.0', tok.hospB)).json.error.code, 'SBOM_NOT_FOUND');
      assert.equal((await call('GET', '/api/v1/sboms/MON-1/1.0', tok.hospB)).json.error.code, 'SBOM_NOT_FOUND');
      assert.deepEqual((await call('GET', '/api/v1/vulnerabilities', tok.hospB)).json.firmwares, []);
      assert.equal((await call('GET', '/api/v1/devices/dev-a/vulnerabilities', tok.clinician)).json.error.code, 'FORBIDDEN');
      assert.equal((await call('GET', '/api/v1/devices/dev-a/vulnerabilities', undefined)).json.error.code, 'UNAUTHENTICATED');
      assert.equal((await call('GET', '/api/v1/vulnerabilities?model=MON-1', tok.admin)).json.error.code, 'VULN_QUERY_INVALID');
    });

    it('records VEX analyses and exports them as CSAF 2.0 VEX that passes strict validation', async () => {
      assert.equal((await call('PUT', '/api/v1/vex', tok.analyst, { model: 'MON-1', firmwareVersion: '1.0', vulnId: 'CVE-2018-16525', status: 'not_affected' })).json.error.code, 'VEX_INVALID');
      assert.equal((await call('PUT', '/api/v1/vex', tok.hospA, { model: 'MON-1', firmwareVersion: '1.0', vulnId: 'CVE-2018-16525', status: 'affected' })).json.error.code, 'FORBIDDEN');
      const ok = await call('PUT', '/api/v1/vex', tok.analyst, { model: 'MON-1', firmwareVersion: '1.0', vulnId: 'CVE-2018-16525', status: 'not_affected', justification: 'vulnerable_code_not_present', detail: 'The TCP/IP stack of FreeRTOS+TCP is not built in.' });
      assert.equal(ok.status, 200);
      const csaf = await call('GET', '/api/v1/vex/MON-1?format=csaf', tok.hospA);
      assert.equal(csaf.status, 200);
      assert.equal(csaf.json.document.category, 'csaf_vex');
      assert.deepEqual(await validateCsaf(csaf.json), []);
      const cdx = await call('GET', '/api/v1/vex/MON-1', tok.hospA);
      assert.equal(cdx.json.vulnerabilities[0].analysis.state, 'not_affected');
      const v = await call('GET', '/api/v1/vulnerabilities?model=MON-1&version=1.0', tok.hospA);
      assert.equal(v.json.vulnerabilities[0].analysis.status, 'not_affected');
    });

    it('exports CycloneDX 1.6 and sets a model risk profile', async () => {
      const res = await fetch(`${base}/api/v1/sboms/MON-1/1.0`, { headers: { authorization: `Bearer ${tok.hospA}` } });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /cyclonedx\+json/);
      assert.equal(((await res.json()) as { specVersion: string }).specVersion, '1.6');
      assert.equal((await call('PUT', '/api/v1/device-models/MON-1/risk-profile', tok.analyst, { criticality: 'monitoring', exposure: 'segmented' })).status, 204);
      assert.equal((await call('PUT', '/api/v1/device-models/MON-1/risk-profile', tok.analyst, { criticality: 'vital', exposure: 'segmented' })).json.error.code, 'MODEL_PROFILE_INVALID');
      const d = await call('GET', '/api/v1/devices/dev-a/vulnerabilities', tok.hospA);
      assert.ok((d.json.risk.explanation as string[]).some((l) => l.includes('monitoring')));
    });

    it('notifies the affected hospital of an advisory; only it reads and acknowledges the notice', async () => {
      assert.equal((await call('PUT', '/api/v1/vex', tok.analyst, { model: 'MON-1', firmwareVersion: '1.0', vulnId: 'CVE-2018-16525', status: 'affected' })).status, 200);
      assert.equal((await call('POST', '/api/v1/vulnerabilities/CVE-2018-16525/advisory', tok.hospA)).json.error.code, 'FORBIDDEN');
      const adv = await call('POST', '/api/v1/vulnerabilities/CVE-2018-16525/advisory', tok.analyst);
      assert.equal(adv.status, 200);
      assert.equal(adv.json.notices.length, 1);
      const id = adv.json.notices[0].id as string;
      const mine = await call('GET', '/api/v1/advisory-notices?unacknowledged=true', tok.hospA);
      assert.deepEqual(mine.json.notices.map((n: { id: string }) => n.id), [id]);
      assert.equal(mine.json.notices[0].affectedDevices, 1);
      assert.deepEqual((await call('GET', '/api/v1/advisory-notices', tok.hospB)).json.notices, []);
      assert.equal((await call('GET', `/api/v1/advisory-notices/${id}`, tok.hospB)).json.error.code, 'ADVISORY_NOTICE_NOT_FOUND');
      assert.equal((await call('POST', `/api/v1/advisory-notices/${id}/acknowledge`, tok.hospB)).status, 404);
      assert.equal((await call('GET', '/api/v1/advisory-notices', tok.clinician)).json.error.code, 'FORBIDDEN');
      assert.equal((await call('GET', '/api/v1/advisory-notices?limit=0', tok.hospA)).status, 400);
      const one = await call('GET', `/api/v1/advisory-notices/${id}`, tok.hospA);
      assert.equal(one.json.csaf.document.category, 'csaf_security_advisory');
      const ack = await call('POST', `/api/v1/advisory-notices/${id}/acknowledge`, tok.hospA);
      assert.equal(ack.status, 200);
      assert.match(ack.json.acknowledgedBy as string, /^token:/);
      assert.deepEqual((await call('GET', '/api/v1/advisory-notices?unacknowledged=true', tok.hospA)).json.notices, []);
      const sites = await call('GET', '/api/v1/vulnerabilities/sites', tok.hospA);
      assert.deepEqual(sites.json.sites, [{ siteId: null, siteName: null, devices: 1, affected: 0, kev: 0, unknown: 1 }]);
      assert.deepEqual((await call('GET', '/api/v1/vulnerabilities/sites', tok.hospB)).json.sites, []);
    });
  });
}
