import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, TEST_DIALECTS, type TestDatabase } from '../db/testing.ts';
import { loadConfig, Platform } from '../index.ts';

// "Naughty requests" (Medplum style): every /api/v1 route of the running platform, found in its
// OpenAPI document so that routes added later are covered too, is called by every hospital role of
// tenant A (API token and session cookie) with ids that belong to tenant B. Nothing of B may come
// back and nothing may change: the answer is 403 or 404 (401 for routes with their own credential).

/** Routes that carry no tenant-owned id, with the reason; they are still called and leak-checked. */
const NO_TENANT_ID: Readonly<Record<string, string>> = {
  'POST /api/v1/auth/login': 'credentials endpoint: the tenant comes from the account',
  'POST /api/v1/auth/logout': 'ends only the caller\'s own session',
  'POST /api/v1/feeds/import': 'vulnerability feeds are platform-wide reference data (operator only)',
  'GET /api/v1/vulnerabilities': 'platform-wide vulnerability catalogue, no tenant rows',
  'POST /api/v1/audit/checkpoints': 'signs over the whole log; operator tenant only',
  'GET /api/v1/alerts/stream': 'live stream of the caller\'s own tenant; its first bytes are leak-checked',
  'GET /api/v1/auth/oidc/callback': 'single sign-on return: the tenant comes from the login this browser started (none here: refused)',
};

type Json = Record<string, unknown>;

async function firstChunk(r: Response): Promise<string> {
  const reader = r.body!.getReader();
  const { value } = await reader.read();
  await reader.cancel();
  return Buffer.from(value ?? new Uint8Array()).toString('utf8');
}
interface Operation { readonly method: string; readonly path: string; readonly body?: Json }

/** A minimal instance of a JSON schema, with tenant-B values for the fields that name ids. */
function sample(schema: Json | undefined, name: string, ids: Readonly<Record<string, string>>): unknown {
  if (!schema) return undefined;
  const byName = ids[name];
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  switch (schema.type) {
    case 'object': {
      const props = (schema.properties ?? {}) as Record<string, Json>;
      const required = new Set((schema.required ?? []) as string[]);
      const out: Json = {};
      for (const [k, v] of Object.entries(props)) if (required.has(k) || ids[k] !== undefined) out[k] = sample(v, k, ids);
      return out;
    }
    case 'array': return Array.from({ length: Number(schema.minItems ?? 0) }, () => sample(schema.items as Json, name, ids));
    case 'integer': case 'number': return Number(schema.minimum ?? 1);
    case 'boolean': return false;
    case 'string': return byName ?? 'x'.repeat(Math.max(1, Number(schema.minLength ?? 1)));
    default: return byName ?? 'x';
  }
}

for (const dialect of TEST_DIALECTS) {
  describe(`tenant isolation of every /api/v1 route (${dialect})`, () => {
    let t: TestDatabase;
    let p: Platform;
    let base: string;
    const b: Record<string, string> = {};
    const attackers: Array<{ label: string; headers: Record<string, string> }> = [];
    let operations: Operation[] = [];

    before(async () => {
      t = await createTestDatabase(dialect);
      const env = { MEDTRUST_DATA_DIR: t.dataDir, MEDTRUST_HTTP_PORT: '0', MEDTRUST_HTTPS_PORT: '0', MEDTRUST_MQTT_PORT: '0', MEDTRUST_LOG_LEVEL: 'silent', ...(t.url ? { MEDTRUST_DATABASE_URL: t.url } : {}) };
      p = await Platform.open({ config: loadConfig(env) });
      base = (await p.start()).httpUrl;
      const s = p.services;
      const tenantA = await s.tenants.create({ kind: 'customer', name: 'Hospital A' });
      const tenantB = await s.tenants.create({ kind: 'customer', name: 'Hospital B' });
      const siteB = await s.tenants.create({ kind: 'site', name: 'B North', parentId: tenantB });
      const deviceB = await s.devices.create({ serial: 'B-PUMP-0001', model: 'pump-b', hardwareRevision: 'A', tenantId: tenantB }, 'test');
      const userB = await s.users.create({ tenantId: tenantB, email: 'victim@b.example', role: 'clinician', password: 'victim password 123', createdBy: 'test' });
      const tokenB = await s.tokens.create({ tenantId: tenantB, role: 'biomed', name: 'b', createdBy: 'test' });
      const ssoB = await s.sso.providers.create(tenantB, { name: 'B SSO', issuer: 'https://login.b.example', clientId: 'b-client', clientSecret: 'b-secret', allowedDomains: ['b.example'], defaultRole: 'clinician' }, 'test');
      const seqB = (await s.db.selectFrom('audit_entry').select('seq').where('tenant_id', '=', tenantB).orderBy('seq', 'desc').limit(1).executeTakeFirstOrThrow()).seq;
      Object.assign(b, {
        tenantId: tenantB, siteId: siteB, parentId: tenantB, deviceId: deviceB.id, userId: userB.id, tokenId: tokenB.id,
        seq: String(seqB), serial: deviceB.serial, model: deviceB.model, email: userB.email, ssoProviderId: ssoB.id,
      });
      // A certificate of B's device where the PKI can issue one (for /certificates/{serial}).
      const cert = await s.db.selectFrom('certificate').select('serial').where('device_id', '=', deviceB.id).executeTakeFirst().catch(() => undefined);
      if (cert) b.certSerial = cert.serial;
      await s.auditCheckpoints.create();
      for (const role of ['hospital-admin', 'biomed', 'clinician', 'auditor'] as const) {
        const tok = await s.tokens.create({ tenantId: tenantA, role, name: `attacker ${role}`, createdBy: 'test' });
        attackers.push({ label: `token ${role}`, headers: { authorization: `Bearer ${tok.token}` } });
      }
      await s.users.create({ tenantId: tenantA, email: 'admin@a.example', role: 'hospital-admin', password: 'attacker password 1', createdBy: 'test' });
      const login = await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'admin@a.example', password: 'attacker password 1' }) });
      assert.equal(login.status, 200);
      attackers.push({ label: 'session hospital-admin', headers: { cookie: String(login.headers.get('set-cookie')).split(';')[0]! } });

      const doc = await (await fetch(`${base}/docs/json`)).json() as { paths: Record<string, Record<string, { requestBody?: { content?: Record<string, { schema?: Json }> } }>> };
      const idFor = (path: string, param: string): string => {
        if (param === 'seq') return b.seq!;
        if (param === 'serial') return path.startsWith('/api/v1/certificates') ? (b.certSerial ?? '01') : b.serial!;
        if (param === 'model') return b.model!;
        if (param === 'version') return '1.0.0';
        if (path.startsWith('/api/v1/users/')) return b.userId!;
        if (path.startsWith('/api/v1/tokens/')) return b.tokenId!;
        if (path.startsWith('/api/v1/sso/providers/')) return b.ssoProviderId!;
        if (path.startsWith('/api/v1/tenants/')) return b.tenantId!;
        // Any other id: B's device, the object most routes hang off.
        return b.deviceId!;
      };
      for (const [path, ops] of Object.entries(doc.paths)) {
        if (!path.startsWith('/api/v1/')) continue;
        for (const [method, op] of Object.entries(ops)) {
          const concrete = path.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(idFor(path, name)));
          const schema = op.requestBody?.content?.['application/json']?.schema;
          operations.push({ method: method.toUpperCase(), path: concrete, body: schema ? (sample(schema, '', { ...b, id: b.deviceId! }) as Json) : undefined });
        }
      }
      // Logout last: it ends the attacker's own session.
      const last = (o: Operation): number => (o.path === '/api/v1/auth/logout' ? 1 : 0);
      operations = operations.sort((x, y) => last(x) - last(y) || x.path.localeCompare(y.path));
    });
    after(async () => {
      await p.stop();
      await t.close();
    });

    it('finds the routes (access, audit and the other domains)', () => {
      const paths = operations.map((o) => `${o.method} ${o.path}`);
      assert.ok(paths.some((x) => x.startsWith('GET /api/v1/users/usr_')));
      assert.ok(paths.some((x) => x.startsWith('GET /api/v1/audit/')));
      assert.ok(operations.length >= 15, paths.join('\n'));
    });

    it('never answers a hospital-A principal with tenant B\'s data or a change to it', async () => {
      const secrets = [b.tenantId!, b.deviceId!, b.userId!, b.tokenId!, b.email!, b.serial!];
      const failures: string[] = [];
      const auditBefore = await p.services.db.selectFrom('audit_entry').select('seq').orderBy('seq', 'desc').limit(1).executeTakeFirstOrThrow();
      for (const op of operations) {
        const key = `${op.method} ${op.path}`;
        const routeKey = Object.keys(NO_TENANT_ID).find((k) => k === key);
        for (const who of attackers) {
          const r = await fetch(`${base}${op.path}`, {
            method: op.method,
            headers: { ...who.headers, ...(op.body !== undefined ? { 'content-type': 'application/json' } : {}) },
            body: op.body !== undefined ? JSON.stringify(op.body) : undefined,
          });
          // A live stream never ends: check what it sent first, then hang up.
          const text = String(r.headers.get('content-type')).startsWith('text/event-stream') ? await firstChunk(r) : await r.text();
          // An error may echo what the attacker sent; anything else of B's is a leak.
          const sent = op.path + JSON.stringify(op.body ?? {});
          const leaked = secrets.filter((x) => !sent.includes(x) && text.includes(x));
          if (leaked.length > 0) failures.push(`${key} as ${who.label}: ${r.status} leaks ${leaked.join(', ')}`);
          const hasTenantId = /\{|\/(usr|tok|ten|dev|idp)_|\/audit\/\d/.test(op.path) || (op.body !== undefined && JSON.stringify(op.body).includes(b.tenantId!));
          if (hasTenantId && !routeKey && ![403, 404].includes(r.status)) failures.push(`${key} as ${who.label}: ${r.status} ${text.slice(0, 160)}`);
          if (r.status >= 500) failures.push(`${key} as ${who.label}: ${r.status} ${text.slice(0, 160)}`);
        }
      }
      assert.deepEqual(failures, []);
      // Nothing was created, revoked or changed in B (B's token still works, B's user still there).
      assert.equal((await p.services.tokens.authenticate(`mt_${b.tokenId!}.x`).catch((e: { code?: string }) => e.code)), 'TOKEN_INVALID');
      const tokenRow = await p.services.db.selectFrom('api_token').select('revoked_at').where('id', '=', b.tokenId!).executeTakeFirstOrThrow();
      assert.equal(tokenRow.revoked_at, null, 'B token not revoked');
      assert.equal((await p.services.users.get(b.userId!, null)).email, b.email);
      const bWrites = await p.services.db.selectFrom('audit_entry').select(['action', 'outcome', 'target']).where('seq', '>', auditBefore.seq).where('tenant_id', '=', b.tenantId!).where('outcome', '=', 'success').execute();
      assert.deepEqual(bWrites, [], 'no successful action recorded in tenant B');
    });
  });
}
