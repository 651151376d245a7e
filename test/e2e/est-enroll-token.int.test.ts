import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { main } from '@medtrust/cli';
import { loadConfig, Platform } from '@medtrust/server';
import { createTestDatabase, TEST_DIALECTS, type TestDatabase } from '../../packages/server/src/db/testing.ts';

for (const dialect of TEST_DIALECTS) {
  describe(`enrolment secrets over REST and CLI (${dialect})`, () => {
    let t: TestDatabase;
    let p: Platform;
    let env: Record<string, string>;
    let base: string;
    let deviceId: string;
    let otherDeviceId: string;
    let operatorTenant: string;
    let hospital: string;

    before(async () => {
      t = await createTestDatabase(dialect);
      env = { MEDTRUST_DATA_DIR: t.dataDir, MEDTRUST_HTTP_PORT: '0', MEDTRUST_HTTPS_PORT: '0', MEDTRUST_LOG_LEVEL: 'silent', ...(t.url ? { MEDTRUST_DATABASE_URL: t.url } : {}) };
      p = await Platform.open({ config: loadConfig(env) });
      base = (await p.start()).httpUrl;
      operatorTenant = await p.services.tenants.ensureOperator();
      hospital = await p.services.tenants.create({ kind: 'customer', name: 'St Elsewhere' });
      const now = Date.now();
      deviceId = 'dev_estrest0000000000000000001';
      otherDeviceId = 'dev_estrest0000000000000000002';
      // The device registry is another domain's; rows are inserted as its factory would leave them.
      await p.services.db.insertInto('device').values([
        { id: deviceId, serial: 'PUMP-0001', model: 'pump', hardware_revision: 'A', tenant_id: hospital, site_id: null, state: 'manufactured', firmware_version: null, batch_id: null, created_at: now, updated_at: now },
        { id: otherDeviceId, serial: 'PUMP-0002', model: 'pump', hardware_revision: 'A', tenant_id: operatorTenant, site_id: null, state: 'manufactured', firmware_version: null, batch_id: null, created_at: now, updated_at: now },
      ]).execute();
    });
    after(async () => {
      await p.stop();
      await t.close();
    });

    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are asserted field by field
    async function post(path: string, token: string | undefined, body: unknown): Promise<{ status: number; json: any; headers: Headers }> {
      const r = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
      return { status: r.status, json: await r.json(), headers: r.headers };
    }

    it('creates a secret for a permitted role and tenant, shown once, not cached', async () => {
      const admin = await p.services.tokens.create({ tenantId: hospital, role: 'hospital-admin', name: 't', createdBy: 'test' });
      const r = await post(`/api/v1/devices/${deviceId}/enroll-tokens`, admin.token, { ttlHours: 1 });
      assert.equal(r.status, 201);
      assert.match(r.json.username, /^enr_/);
      assert.ok(Buffer.from(r.json.password, 'base64url').length >= 16);
      assert.equal(r.headers.get('cache-control'), 'no-store');
      const consumed = await p.services.enrollTokens.consume(r.json.username, r.json.password, 'test');
      assert.equal(consumed.deviceId, deviceId);
    });

    it('refuses another tenant\'s device as unknown, a role without the permission, and no token', async () => {
      const admin = await p.services.tokens.create({ tenantId: hospital, role: 'hospital-admin', name: 't', createdBy: 'test' });
      assert.equal((await post(`/api/v1/devices/${otherDeviceId}/enroll-tokens`, admin.token, {})).json.error.code, 'DEVICE_UNKNOWN');
      const clinician = await p.services.tokens.create({ tenantId: hospital, role: 'clinician', name: 't', createdBy: 'test' });
      assert.equal((await post(`/api/v1/devices/${deviceId}/enroll-tokens`, clinician.token, {})).json.error.code, 'FORBIDDEN');
      assert.equal((await post(`/api/v1/devices/${deviceId}/enroll-tokens`, undefined, {})).json.error.code, 'UNAUTHENTICATED');
      assert.equal((await post(`/api/v1/devices/${deviceId}/enroll-tokens`, admin.token, { ttlHours: -1 })).json.error.code, 'REQUEST_INVALID');
      const count = await p.services.db.selectFrom('enroll_token').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      assert.equal(Number(count.n), 1);
    });

    it('`medtrust enroll-token create --json` prints exactly username and password', async () => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await main(['node', 'medtrust', 'enroll-token', 'create', '--device', 'PUMP-0002', '--json'], env, { out: (l) => out.push(l), err: (l) => err.push(l), isTty: false });
      assert.equal(code, 0, err.join('\n'));
      const parsed = JSON.parse(out.join('\n'));
      assert.deepEqual(Object.keys(parsed), ['username', 'password']);
      const consumed = await p.services.enrollTokens.consume(parsed.username, parsed.password, 'test');
      assert.equal(consumed.deviceId, otherDeviceId);
      const unknown = await main(['node', 'medtrust', 'enroll-token', 'create', '--device', 'NOPE'], env, { out: () => undefined, err: (l) => err.push(l), isTty: false });
      assert.equal(unknown, 2);
      assert.match(err.at(-1) ?? '', /DEVICE_UNKNOWN/);
    });
  });
}
