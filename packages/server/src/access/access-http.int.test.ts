import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '@medtrust/core';
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { DbAuditLog, auditRoutes, CheckpointService, testKeyHandle } from '../audit/index.ts';
import { migrateToLatest } from '../db/index.ts';
import { createTestDatabase, TEST_DIALECTS, type TestDatabase } from '../db/testing.ts';
import { authenticateRequest, buildHttpApp, requirePermission } from '../http/index.ts';
import { createLogger } from '../logging/index.ts';
import { allMigrations } from '../migrations.ts';
import { accessRoutes } from './access-routes.ts';
import { authRoutes } from './auth-routes.ts';
import { LoginRateLimiter } from './login-rate-limiter.ts';
import { PasswordHasher } from './password-hasher.ts';
import { SessionService } from './session-service.ts';
import { TenantService } from './tenant-service.ts';
import { TokenService } from './token-service.ts';
import { UserService } from './user-service.ts';

const PASSWORD = 'correct horse battery';

for (const dialect of TEST_DIALECTS) {
  describe(`access over HTTP (${dialect})`, () => {
    let t: TestDatabase;
    let app: FastifyInstance;
    let tenants: TenantService;
    let users: UserService;
    let tokens: TokenService;
    let sessions: SessionService;
    let opTenant: string;
    let hospA: string;
    let hospB: string;
    let adminToken: string;
    let hospAAdmin: string;
    const clock = new ManualClock(1_800_000_000_000);

    before(async () => {
      t = await createTestDatabase(dialect);
      await migrateToLatest(t.db, dialect, allMigrations);
      const audit = new DbAuditLog({ db: t.db, dialect, clock });
      tenants = new TenantService({ db: t.db, clock, audit });
      tokens = new TokenService({ db: t.db, audit, clock });
      users = new UserService({ db: t.db, audit, clock, hasher: new PasswordHasher({ logN: 10, r: 8, p: 1 }), maxFailedAttempts: 3, lockoutMs: 60_000 });
      sessions = new SessionService({ db: t.db, clock, ttlMs: 3_600_000, idleTimeoutMs: 600_000 });
      opTenant = await tenants.ensureOperator();
      hospA = await tenants.create({ kind: 'customer', name: 'Hospital A' });
      hospB = await tenants.create({ kind: 'customer', name: 'Hospital B' });
      adminToken = (await tokens.create({ tenantId: opTenant, role: 'operator-admin', name: 'a', createdBy: 'test' })).token;
      hospAAdmin = (await tokens.create({ tenantId: hospA, role: 'hospital-admin', name: 'a', createdBy: 'test' })).token;
      const authenticated = async (req: Parameters<typeof authenticateRequest>[1]): Promise<void> => void (await authenticateRequest(tokens, req));
      app = await buildHttpApp({
        logger: createLogger({ level: process.env.TEST_LOG ?? 'silent' }), metrics: new Registry(), version: 't', ready: async () => true,
        routes: [
          authRoutes({ users, sessions, audit, limiter: new LoginRateLimiter({ clock, maxAttempts: 8, windowMs: 60_000 }), authenticated, secureCookie: 'auto' }),
          accessRoutes({ tenants, users, tokens, guards: { tenantManage: requirePermission(tokens, 'tenant:manage'), userManage: requirePermission(tokens, 'user:manage'), tokenCreate: requirePermission(tokens, 'token:create'), authenticated } }),
          auditRoutes({ db: t.db, checkpoints: new CheckpointService({ db: t.db, signingKey: testKeyHandle() }), trustedKeys: async () => [], guard: requirePermission(tokens, 'audit:read') }),
        ],
      });
    });
    after(async () => {
      await app.close();
      await t.close();
    });

    const call = (method: 'GET' | 'POST' | 'DELETE', url: string, opts: { token?: string; cookie?: string; body?: unknown; headers?: Record<string, string> } = {}) => app.inject({
      method, url, payload: opts.body as Record<string, unknown> | undefined,
      headers: { ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}), ...(opts.cookie ? { cookie: opts.cookie } : {}), ...opts.headers },
    });
    const code = (r: { json(): unknown }): string => (r.json() as { error: { code: string } }).error.code;

    describe('when a hospital admin manages users', () => {
      it('creates users in its own tenant only, with hospital roles only', async () => {
        const r = await call('POST', '/api/v1/users', { token: hospAAdmin, body: { email: 'Nurse@A.example', role: 'clinician', password: PASSWORD } });
        assert.equal(r.statusCode, 201, r.body);
        assert.equal(r.json().tenantId, hospA);
        assert.equal(r.json().email, 'nurse@a.example');
        assert.equal(r.json().password, undefined);
        const gen = await call('POST', '/api/v1/users', { token: hospAAdmin, body: { email: 'biomed@a.example', role: 'biomed' } });
        assert.equal(gen.statusCode, 201);
        assert.ok(gen.json().password.length >= 20, 'generated password returned once');
        assert.equal(code(await call('POST', '/api/v1/users', { token: hospAAdmin, body: { email: 'x@b.example', role: 'clinician', tenantId: hospB } })), 'TENANT_UNKNOWN');
        assert.equal(code(await call('POST', '/api/v1/users', { token: hospAAdmin, body: { email: 'x@a.example', role: 'operator-admin' } })), 'ROLE_NOT_ALLOWED');
        assert.equal(code(await call('POST', '/api/v1/users', { token: hospAAdmin, body: { email: 'nurse@a.example', role: 'clinician', password: PASSWORD } })), 'USER_EXISTS');
        assert.equal(code(await call('POST', '/api/v1/users', { token: hospAAdmin, body: { email: 'short@a.example', role: 'clinician', password: 'short' } })), 'USER_INVALID');
        assert.equal(code(await call('POST', '/api/v1/users', { token: hospAAdmin, body: { email: 'not-an-email', role: 'clinician' } })), 'USER_INVALID');
        assert.equal(code(await call('POST', '/api/v1/users', { token: hospAAdmin, body: { email: 'r@a.example', role: 'root' } })), 'ROLE_UNKNOWN');
        const listed = (await call('GET', '/api/v1/users', { token: hospAAdmin })).json().users as Array<{ tenantId: string }>;
        assert.ok(listed.length === 2 && listed.every((u) => u.tenantId === hospA));
      });

      it('cannot create tenants, and the operator can (with checks)', async () => {
        assert.equal((await call('POST', '/api/v1/tenants', { token: hospAAdmin, body: { kind: 'customer', name: 'Evil' } })).statusCode, 403);
        const site = await call('POST', '/api/v1/tenants', { token: adminToken, body: { kind: 'site', name: 'A North', parentId: hospA, timeZone: 'Europe/Berlin' } });
        assert.equal(site.statusCode, 201, site.body);
        assert.equal(site.json().parentId, hospA);
        assert.equal(code(await call('POST', '/api/v1/tenants', { token: adminToken, body: { kind: 'site', name: 'orphan' } })), 'TENANT_INVALID');
        assert.equal(code(await call('POST', '/api/v1/tenants', { token: adminToken, body: { kind: 'site', name: 'x', parentId: site.json().id } })), 'TENANT_INVALID');
        assert.equal(code(await call('POST', '/api/v1/tenants', { token: adminToken, body: { kind: 'customer', name: 'x', timeZone: 'Mars/Olympus' } })), 'TENANT_INVALID');
        assert.equal(code(await call('POST', '/api/v1/tenants', { token: adminToken, body: { kind: 'site', name: 'x', parentId: 'ten_nope' } })), 'TENANT_UNKNOWN');
        assert.equal(code(await call('GET', `/api/v1/tenants/${hospB}`, { token: hospAAdmin })), 'TENANT_UNKNOWN');
        assert.equal((await call('GET', `/api/v1/tenants/${hospA}`, { token: hospAAdmin })).statusCode, 200);
      });

      it('creates, lists and revokes tokens in its tenant only', async () => {
        const c = await call('POST', '/api/v1/tokens', { token: hospAAdmin, body: { role: 'biomed', name: 'ci', ttlDays: 1 } });
        assert.equal(c.statusCode, 201, c.body);
        assert.ok(c.json().expiresAt > clock.nowMs());
        const other = await tokens.create({ tenantId: hospB, role: 'biomed', name: 'b', createdBy: 'test' });
        assert.equal(code(await call('DELETE', `/api/v1/tokens/${other.id}`, { token: hospAAdmin })), 'TOKEN_NOT_FOUND');
        assert.equal((await call('GET', '/api/v1/auth/me', { token: other.token })).statusCode, 200, 'other tenant token untouched');
        const list = (await call('GET', '/api/v1/tokens', { token: hospAAdmin })).json().tokens as Array<{ tenantId: string; id: string }>;
        assert.ok(list.every((x) => x.tenantId === hospA) && !list.some((x) => x.id === other.id));
        assert.ok(!JSON.stringify(list).includes('secret'));
        assert.equal((await call('DELETE', `/api/v1/tokens/${c.json().id}`, { token: hospAAdmin })).statusCode, 204);
        assert.equal(code(await call('GET', '/api/v1/auth/me', { token: c.json().token })), 'TOKEN_INVALID');
        assert.equal(code(await call('POST', '/api/v1/tokens', { token: hospAAdmin, body: { role: 'security-analyst', name: 'x' } })), 'ROLE_NOT_ALLOWED');
      });
    });

    describe('when a user logs in', () => {
      it('sets a SameSite=Strict HttpOnly cookie that authenticates, and logout ends it', async () => {
        const r = await call('POST', '/api/v1/auth/login', { body: { email: 'NURSE@a.example', password: PASSWORD } });
        assert.equal(r.statusCode, 200, r.body);
        const set = String(r.headers['set-cookie']);
        assert.match(set, /^mt_session=[A-Za-z0-9_-]{43};/);
        assert.match(set, /HttpOnly/);
        assert.match(set, /SameSite=Strict/);
        assert.doesNotMatch(set, /Secure/, 'plain http with secureCookie auto');
        const cookie = set.split(';')[0]!;
        const me = await call('GET', '/api/v1/auth/me', { cookie });
        assert.equal(me.statusCode, 200);
        assert.equal(me.json().kind, 'user');
        assert.equal(me.json().tenantId, hospA);
        // The session id is stored hashed: the raw value is in no row.
        const raw = cookie.split('=')[1]!;
        const rows = await t.db.selectFrom('session').selectAll().execute();
        assert.ok(rows.length >= 1 && rows.every((s) => !Buffer.from(s.id_sha256).toString('base64url').includes(raw)));
        // A clinician lacks user:manage; cross-origin unsafe requests with a cookie are refused.
        assert.equal((await call('GET', '/api/v1/users', { cookie })).statusCode, 403);
        assert.equal((await call('POST', '/api/v1/tokens', { cookie, body: { role: 'biomed', name: 'x' }, headers: { origin: 'https://evil.example' } })).statusCode, 403);
        assert.equal((await call('POST', '/api/v1/auth/logout', { cookie })).statusCode, 204);
        assert.equal(code(await call('GET', '/api/v1/auth/me', { cookie })), 'UNAUTHENTICATED');
        assert.equal(code(await call('GET', '/api/v1/auth/me', { cookie: 'mt_session=garbage' })), 'UNAUTHENTICATED');
      });

      it('ends a session after the idle timeout', async () => {
        const r = await call('POST', '/api/v1/auth/login', { body: { email: 'nurse@a.example', password: PASSWORD } });
        const cookie = String(r.headers['set-cookie']).split(';')[0]!;
        clock.advance(300_000);
        assert.equal((await call('GET', '/api/v1/auth/me', { cookie })).statusCode, 200);
        clock.advance(601_000);
        assert.equal(code(await call('GET', '/api/v1/auth/me', { cookie })), 'UNAUTHENTICATED');
      });

      it('gives the same error for an unknown email and a wrong password, locks after 3 failures, and audits it', async () => {
        await users.create({ tenantId: hospB, email: 'lock@b.example', role: 'clinician', password: PASSWORD, createdBy: 'test' });
        clock.advance(120_000); // fresh rate-limit window
        const unknown = await call('POST', '/api/v1/auth/login', { body: { email: 'nobody@b.example', password: PASSWORD } });
        const wrong = await call('POST', '/api/v1/auth/login', { body: { email: 'lock@b.example', password: 'wrong password!' } });
        assert.equal(unknown.statusCode, 401);
        assert.equal(code(unknown), 'LOGIN_FAILED');
        assert.equal(code(wrong), 'LOGIN_FAILED');
        assert.equal(unknown.json().error.message, wrong.json().error.message);
        await call('POST', '/api/v1/auth/login', { body: { email: 'lock@b.example', password: 'wrong password!' } });
        await call('POST', '/api/v1/auth/login', { body: { email: 'lock@b.example', password: 'wrong password!' } });
        assert.equal(code(await call('POST', '/api/v1/auth/login', { body: { email: 'lock@b.example', password: PASSWORD } })), 'LOGIN_FAILED', 'locked: right password refused');
        const actions = (await t.db.selectFrom('audit_entry').select(['action', 'outcome', 'details']).execute()).map((e) => e.action);
        assert.ok(actions.includes('access.user.locked'));
        assert.ok(actions.filter((a) => a === 'access.login.failed').length >= 4);
        const all = JSON.stringify(await t.db.selectFrom('audit_entry').selectAll().execute());
        assert.ok(!all.includes(PASSWORD) && !all.includes('wrong password!'), 'no password in the audit log');
        clock.advance(61_000);
        assert.equal((await call('POST', '/api/v1/auth/login', { body: { email: 'lock@b.example', password: PASSWORD } })).statusCode, 200, 'lockout ends');
      });

      it('prunes sessions a day after they end', async () => {
        const before = await t.db.selectFrom('session').select('user_id').execute();
        assert.ok(before.length > 0);
        clock.advance(3_600_000);
        assert.equal(await sessions.prune(), 0, 'ended less than a day ago: kept');
        clock.advance(86_400_001);
        assert.equal(await sessions.prune(), before.length);
      });

      it('rate-limits one address', async () => {
        clock.advance(120_000);
        const codes: number[] = [];
        for (let i = 0; i < 9; i++) codes.push((await call('POST', '/api/v1/auth/login', { body: { email: 'nobody@x.example', password: 'x' } })).statusCode);
        assert.deepEqual(codes, [401, 401, 401, 401, 401, 401, 401, 401, 429]);
        const r = await call('POST', '/api/v1/auth/login', { body: { email: 'nurse@a.example', password: PASSWORD } });
        assert.equal(code(r), 'RATE_LIMITED');
        assert.ok(Number(r.headers['retry-after']) > 0);
      });
    });

    describe('when a customer reads the audit log', () => {
      it('sees only entries of its own tenant', async () => {
        const auditor = (await tokens.create({ tenantId: hospA, role: 'auditor', name: 'a', createdBy: 'test' })).token;
        const mine = (await call('GET', '/api/v1/audit?limit=500', { token: auditor })).json().entries as Array<{ tenantId: string }>;
        assert.ok(mine.length > 0 && mine.every((e) => e.tenantId === hospA));
        const all = (await call('GET', '/api/v1/audit?limit=500', { token: adminToken })).json().entries as Array<{ tenantId: string }>;
        assert.ok(all.some((e) => e.tenantId === hospB));
        const page = (await call('GET', '/api/v1/audit?limit=2&action=access.login.failed', { token: adminToken })).json();
        assert.equal(page.entries.length, 2);
        const next = (await call('GET', `/api/v1/audit?limit=2&action=access.login.failed&since=${page.next}`, { token: adminToken })).json();
        assert.ok(next.entries[0].seq > page.next);
        assert.equal((await call('GET', '/api/v1/audit/verify', { token: auditor })).statusCode, 403);
        const v = await call('GET', '/api/v1/audit/verify', { token: adminToken });
        assert.equal(v.json().ok, true);
        assert.equal((await call('GET', '/api/v1/audit', { token: hospAAdmin })).statusCode, 403, 'hospital-admin lacks audit:read');
      });
    });
  });
}
