import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { TokenService } from '../access/index.ts';
import { TEST_DIALECTS } from '../db/testing.ts';
import { buildHttpApp, requirePermission } from '../http/index.ts';
import { createLogger } from '../logging/index.ts';
import { policyRoutes } from './policy-routes.ts';
import { createPolicyTestStack, type PolicyTestStack } from './testing/policy-test-stack.ts';

const example = (name: string): string => readFileSync(join(import.meta.dirname, 'examples', name), 'utf8');

for (const dialect of TEST_DIALECTS) {
  describe(`policy REST (${dialect})`, () => {
    let s: PolicyTestStack;
    let app: FastifyInstance;
    let base = '';
    const tok: Record<string, string> = {};
    const dev = { oldA: '', newA: '', oldB: '' };
    before(async () => {
      s = await createPolicyTestStack(dialect);
      const tokens = new TokenService({ db: s.pki.t.db, audit: s.pki.audit, clock: s.clock });
      const hospA = await s.tenants.create({ kind: 'customer', name: 'A' });
      const hospB = await s.tenants.create({ kind: 'customer', name: 'B' });
      const mk = async (tenantId: string, role: string) => (await tokens.create({ tenantId, role, name: role, createdBy: 'test' })).token;
      tok.admin = await mk(s.pki.operatorTenantId, 'operator-admin');
      tok.analyst = await mk(s.pki.operatorTenantId, 'security-analyst');
      tok.hospA = await mk(hospA, 'hospital-admin');
      tok.hospB = await mk(hospB, 'hospital-admin');
      tok.clinician = await mk(hospA, 'clinician');
      dev.oldA = (await s.device({ model: 'PumpX', tenantId: hospA, firmwareVersion: '2.0.0' })).id;
      dev.newA = (await s.device({ model: 'PumpX', tenantId: hospA, firmwareVersion: '2.5.0' })).id;
      dev.oldB = (await s.device({ model: 'PumpX', tenantId: hospB, firmwareVersion: '1.9.0' })).id;
      app = await buildHttpApp({
        logger: createLogger({ level: process.env.TEST_LOG ?? 'silent' }), metrics: new Registry(), version: 't', ready: async () => true,
        routes: [policyRoutes({ store: s.store, decisions: s.decisions, engine: s.engine, parser: s.parser, guard: (p) => requirePermission(tokens, p) })],
      });
      await app.listen({ host: '127.0.0.1', port: 0 });
      base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    });
    after(async () => {
      await app.close();
      await s.close();
    });

    const call = async (method: string, path: string, token: string | undefined, body?: unknown) => {
      const res = await fetch(`${base}${path}`, { method, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      const text = await res.text();
      return { status: res.status, json: text ? (JSON.parse(text) as Record<string, any>) : {} }; // eslint-disable-line @typescript-eslint/no-explicit-any -- test reads response JSON
    };

    it('dry-runs the firmware-minimum example fleet-wide for the operator and changes nothing', async () => {
      const before = await s.pki.t.db.selectFrom('policy_version').select('policy_id').execute();
      const r = await call('POST', '/api/v1/policies/dry-run', tok.analyst, { document: example('firmware-minimum.yaml') });
      assert.equal(r.status, 200);
      assert.deepEqual(r.json.hits.map((h: { deviceId: string }) => h.deviceId).sort(), [dev.oldA, dev.oldB].sort());
      assert.deepEqual(r.json.hits[0].actions.map((a: { kind: string }) => a.kind), ['deny', 'force-update']);
      assert.deepEqual(await s.pki.t.db.selectFrom('policy_version').select('policy_id').execute(), before);
      assert.equal((await s.decisions.list(null)).length, 0);
      // A hospital's dry run reaches its own devices only.
      const a = await call('POST', '/api/v1/policies/dry-run', tok.hospA, { document: example('firmware-minimum.yaml') });
      assert.deepEqual(a.json.hits.map((h: { deviceId: string }) => h.deviceId), [dev.oldA]);
    });

    it('saves versions, lists, reads, disables; other tenants get 404 and clinicians 403', async () => {
      const c = await call('POST', '/api/v1/policies', tok.hospA, { document: example('firmware-minimum.yaml') });
      assert.equal(c.status, 201);
      assert.equal(c.json.version, 1);
      const id = c.json.id as string;
      const doc = s.parser.parseText(example('firmware-minimum.yaml'));
      const u = await call('PUT', `/api/v1/policies/${id}`, tok.hospA, { document: { ...doc, description: 'v2' } });
      assert.equal(u.json.version, 2);
      assert.equal((await call('PUT', `/api/v1/policies/${id}`, tok.hospA, { document: { ...doc, name: 'renamed' } })).json.error.code, 'POLICY_INVALID');
      const g = await call('GET', `/api/v1/policies/${id}`, tok.hospA);
      assert.deepEqual(g.json.versions.map((v: { version: number }) => v.version), [2, 1]);
      assert.equal((await call('GET', `/api/v1/policies/${id}`, tok.hospB)).json.error.code, 'POLICY_NOT_FOUND');
      assert.equal((await call('PUT', `/api/v1/policies/${id}`, tok.hospB, { document: doc })).json.error.code, 'POLICY_NOT_FOUND');
      assert.equal((await call('DELETE', `/api/v1/policies/${id}`, tok.hospB)).json.error.code, 'POLICY_NOT_FOUND');
      assert.equal((await call('POST', '/api/v1/policies', tok.clinician, { document: doc })).json.error.code, 'FORBIDDEN');
      assert.equal((await call('GET', '/api/v1/policies', undefined)).status, 401);
      assert.equal((await call('GET', '/api/v1/policies', tok.hospB)).json.policies.length, 0);
      assert.equal((await call('GET', '/api/v1/policies', tok.admin)).json.policies.length, 1);
      // The hospital's policy refuses its own old pump, not the other hospital's.
      await assert.rejects(s.engine.admitConnect({ deviceId: dev.oldA }));
      await s.engine.admitConnect({ deviceId: dev.oldB });
      const d = await call('DELETE', `/api/v1/policies/${id}`, tok.hospA);
      assert.equal(d.json.enabled, false);
      await s.engine.admitConnect({ deviceId: dev.oldA });
    });

    it('refuses malformed policies with POLICY_INVALID and stores nothing', async () => {
      const n = (await s.pki.t.db.selectFrom('policy_version').select('policy_id').execute()).length;
      for (const document of ['name: x\ntrigger: { event: device.connect\n', { name: 'x', trigger: { event: 'device.connect' }, rules: [{ name: 'r', when: { fact: 'device.colour', eq: 'red' }, actions: [{ kind: 'deny' }] }] }, { name: 'x', trigger: { event: 'device.connect' }, rules: [{ name: 'r', when: { fact: 'device.model', like: 'P%' }, actions: [{ kind: 'deny' }] }] }]) {
        const r = await call('POST', '/api/v1/policies', tok.admin, { document });
        assert.equal(r.status, 400);
        assert.equal(r.json.error.code, 'POLICY_INVALID');
        assert.ok(r.json.error.details.problems.length > 0);
      }
      assert.equal((await call('POST', '/api/v1/policies/dry-run', tok.admin, { document: 'rules: [' })).json.error.code, 'POLICY_INVALID');
      assert.equal((await s.pki.t.db.selectFrom('policy_version').select('policy_id').execute()).length, n);
    });

    it('lists decisions scoped to the caller\'s tenant', async () => {
      const p = await call('POST', '/api/v1/policies', tok.admin, { document: example('firmware-minimum.yaml') });
      await assert.rejects(s.engine.admitConnect({ deviceId: dev.oldA }));
      await assert.rejects(s.engine.admitConnect({ deviceId: dev.oldB }));
      // Two now, plus the hospital policy's refusal of oldA in the test before.
      assert.equal((await call('GET', '/api/v1/policy-decisions', tok.admin)).json.decisions.length, 3);
      const a = await call('GET', `/api/v1/policy-decisions?device=${dev.oldB}`, tok.hospA);
      assert.equal(a.json.decisions.length, 0);
      const mine = await call('GET', `/api/v1/policy-decisions?policy=${p.json.id as string}`, tok.hospA);
      assert.deepEqual(mine.json.decisions.map((d: { deviceId: string; policyId: string }) => [d.deviceId, d.policyId]), [[dev.oldA, p.json.id]]);
      assert.equal((await call('GET', '/api/v1/policy-decisions?limit=9999', tok.admin)).json.error.code, 'POLICY_QUERY_INVALID');
    });
  });
}
