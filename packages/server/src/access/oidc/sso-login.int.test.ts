import 'reflect-metadata';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, TEST_DIALECTS, type TestDatabase } from '../../db/testing.ts';
import { createLogger, loadConfig, Platform } from '../../index.ts';
import { startTestIdentityProvider, TestBrowser, type TestIdentityProvider } from './testing/test-identity-provider.ts';

const CLIENT_ID = 'medtrust-h';
const CLIENT_SECRET = 'h-client-secret-0123456789abcdef';

const codeOf = async (r: Response): Promise<string> => ((await r.json()) as { error: { code: string } }).error.code;

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as { port: number };
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

for (const dialect of TEST_DIALECTS) {
  describe(`OIDC single sign-on against a real OpenID Provider (${dialect})`, () => {
    let t: TestDatabase;
    let p: Platform;
    let base = '';
    let callbackPrefix = '';
    let idpA: TestIdentityProvider;
    let idpB: TestIdentityProvider;
    let hospital = '';
    let other = '';
    let adminH = '';
    let adminO = '';
    let providerId = '';
    // Everything the platform logs (trace level), and every credential that went through it.
    let logged = '';
    const capture = new Writable({ write(chunk: Buffer, _enc, cb) { logged += chunk.toString('utf8'); cb(); } });
    const credentials = new Set<string>([CLIENT_SECRET]);

    const api = (path: string, init: { method?: string; token?: string; cookie?: string; body?: unknown } = {}) => fetch(`${base}${path}`, {
      method: init.method ?? 'GET', redirect: 'manual',
      headers: { ...(init.token ? { authorization: `Bearer ${init.token}` } : {}), ...(init.cookie ? { cookie: init.cookie } : {}), ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
    });

    /** Starts a login at MedTrust and walks the IdP; returns the browser and the callback URL the IdP sent it to. */
    async function authorize(opts: { idp?: TestIdentityProvider; tamper?: (u: URL) => void } = {}): Promise<{ browser: TestBrowser; callback: string }> {
      const browser = new TestBrowser();
      const start = await browser.get(`${base}/api/v1/auth/oidc/${providerId}/login`);
      assert.equal(start.status, 302, await start.text());
      const to = new URL(start.headers.get('location')!);
      assert.equal(to.origin, idpA.issuer);
      assert.equal(to.searchParams.get('code_challenge_method'), 'S256');
      assert.ok(to.searchParams.get('nonce') && to.searchParams.get('state'));
      if (opts.idp) to.host = new URL(opts.idp.issuer).host;
      opts.tamper?.(to);
      const callback = await browser.followUntil(to.href, callbackPrefix);
      for (const k of ['code', 'state']) credentials.add(new URL(callback).searchParams.get(k) ?? CLIENT_SECRET);
      credentials.add(to.searchParams.get('nonce')!);
      return { browser, callback };
    }

    const finish = (browser: TestBrowser, callback: string) => browser.get(callback);
    const lastFailure = async () => {
      const r = await p.services.db.selectFrom('audit_entry').select(['details', 'tenant_id']).where('action', '=', 'access.login.failed').orderBy('seq', 'desc').limit(1).executeTakeFirstOrThrow();
      return JSON.parse(String(r.details)) as { reason: string; method: string; error?: string };
    };
    const userByEmail = (email: string) => p.services.db.selectFrom('app_user').select(['id', 'tenant_id', 'role']).where('email', '=', email).executeTakeFirst();

    before(async () => {
      t = await createTestDatabase(dialect);
      const port = await freePort();
      const publicUrl = `http://127.0.0.1:${port}`;
      callbackPrefix = `${publicUrl}/api/v1/auth/oidc/callback`;
      idpA = await startTestIdentityProvider({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUri: callbackPrefix });
      idpB = await startTestIdentityProvider({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUri: callbackPrefix });
      const env = { MEDTRUST_DATA_DIR: t.dataDir, MEDTRUST_HTTP_PORT: String(port), MEDTRUST_PUBLIC_URL: publicUrl, MEDTRUST_HTTPS_PORT: '0', MEDTRUST_MQTT_PORT: '0', MEDTRUST_LOG_LEVEL: 'silent', ...(t.url ? { MEDTRUST_DATABASE_URL: t.url } : {}) };
      p = await Platform.open({ config: loadConfig(env), logger: createLogger({ level: 'trace', destination: capture }) });
      base = (await p.start()).httpUrl;
      const s = p.services;
      hospital = await s.tenants.create({ kind: 'customer', name: 'St Example' });
      other = await s.tenants.create({ kind: 'customer', name: 'Other' });
      adminH = (await s.tokens.create({ tenantId: hospital, role: 'hospital-admin', name: 'h admin', createdBy: 'test' })).token;
      adminO = (await s.tokens.create({ tenantId: other, role: 'hospital-admin', name: 'o admin', createdBy: 'test' })).token;
    });
    after(async () => {
      await p.stop();
      await idpA.close();
      await idpB.close();
      await t.close();
    });

    describe('when a hospital admin configures the provider', () => {
      it('stores it with the secret encrypted, never returns the secret, and refuses bad settings', async () => {
        const r = await api('/api/v1/sso/providers', {
          method: 'POST', token: adminH,
          body: { name: 'St Example Entra', issuer: idpA.issuer, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, allowedDomains: ['H.example'], roleClaim: 'groups', roleMap: { 'icu-nurses': 'clinician', 'biomed-team': 'biomed' } },
        });
        assert.equal(r.status, 201);
        const body = await r.json() as { id: string; tenantId: string; redirectUri: string; allowedDomains: string[] };
        providerId = body.id;
        assert.equal(body.tenantId, hospital);
        assert.equal(body.redirectUri, callbackPrefix);
        assert.deepEqual(body.allowedDomains, ['h.example']);
        assert.ok(!JSON.stringify(body).includes(CLIENT_SECRET));
        const row = await p.services.db.selectFrom('oidc_provider').select('client_secret_enc').where('id', '=', providerId).executeTakeFirstOrThrow();
        assert.ok(!Buffer.from(row.client_secret_enc).includes(Buffer.from(CLIENT_SECRET)), 'sealed at rest');
        const listed = await (await api('/api/v1/sso/providers', { token: adminH })).text();
        assert.ok(listed.includes(providerId) && !listed.includes(CLIENT_SECRET));
        const bad = async (over: Record<string, unknown>) => {
          const x = await api('/api/v1/sso/providers', { method: 'POST', token: adminH, body: { name: 'x', issuer: idpA.issuer, clientId: 'c', clientSecret: 's', allowedDomains: ['h.example'], defaultRole: 'clinician', ...over } });
          return await codeOf(x);
        };
        assert.equal(await bad({ issuer: 'http://idp.example.org' }), 'SSO_PROVIDER_INVALID', 'http only on loopback');
        assert.equal(await bad({ allowedDomains: ['not a domain'] }), 'SSO_PROVIDER_INVALID');
        assert.equal(await bad({ defaultRole: 'operator-admin' }), 'SSO_PROVIDER_INVALID', 'operator roles never in a hospital');
        assert.equal(await bad({ defaultRole: null }), 'SSO_PROVIDER_INVALID', 'nobody could log in');
        assert.equal(await bad({ tenantId: other }), 'TENANT_UNKNOWN');
      });

      it('is invisible to another hospital\'s admin', async () => {
        assert.equal((await api(`/api/v1/sso/providers/${providerId}`, { token: adminO })).status, 404);
        assert.equal((await api(`/api/v1/sso/providers/${providerId}`, { method: 'DELETE', token: adminO })).status, 404);
        const list = await (await api('/api/v1/sso/providers', { token: adminO })).json() as { providers: unknown[] };
        assert.deepEqual(list.providers, []);
      });
    });

    describe('when a user signs in through the provider', () => {
      it('creates the user in the hospital with the mapped role and opens a session like a password login', async () => {
        idpA.signIn('alice-sub', { email: 'Alice@h.example', email_verified: true, groups: ['staff', 'icu-nurses'] });
        const { browser, callback } = await authorize();
        const done = await finish(browser, callback);
        assert.equal(done.status, 200, await done.clone().text());
        assert.match(await done.text(), /url=\//);
        const session = browser.cookie(base, 'mt_session');
        assert.ok(session);
        credentials.add(session);
        const me = await (await api('/api/v1/auth/me', { cookie: `mt_session=${session}` })).json() as { kind: string; tenantId: string; role: string };
        assert.deepEqual({ kind: me.kind, tenantId: me.tenantId, role: me.role }, { kind: 'user', tenantId: hospital, role: 'clinician' });
        const user = await userByEmail('alice@h.example');
        assert.equal(user?.tenant_id, hospital);
        const ok = await p.services.db.selectFrom('audit_entry').select('details').where('action', '=', 'access.login.succeeded').where('target', '=', `user:${user.id}`).executeTakeFirstOrThrow();
        assert.match(String(ok.details), /"method":"oidc"/);
        // No password works for an SSO-only account.
        const pw = await api('/api/v1/auth/login', { method: 'POST', body: { email: 'alice@h.example', password: '!sso' } });
        assert.equal(pw.status, 401);
      });

      it('lands the same subject on the same account and applies the directory\'s current role', async () => {
        const before = await userByEmail('alice@h.example');
        idpA.signIn('alice-sub', { email: 'alice@h.example', email_verified: true, groups: ['biomed-team'] });
        const { browser, callback } = await authorize();
        assert.equal((await finish(browser, callback)).status, 200);
        const after = await userByEmail('alice@h.example');
        assert.equal(after?.id, before?.id);
        assert.equal(after?.role, 'biomed');
      });

      it('links an existing password user of the hospital with the same email', async () => {
        const bob = await p.services.users.create({ tenantId: hospital, email: 'bob@h.example', role: 'clinician', password: 'bob password 1234', createdBy: 'test' });
        idpA.signIn('bob-sub', { email: 'bob@h.example', groups: ['icu-nurses'] });
        const { browser, callback } = await authorize();
        assert.equal((await finish(browser, callback)).status, 200);
        const link = await p.services.db.selectFrom('oidc_identity').select('user_id').where('subject', '=', 'bob-sub').executeTakeFirstOrThrow();
        assert.equal(link.user_id, bob.id);
      });
    });

    describe('when something is wrong', () => {
      async function refused(browser: TestBrowser, callback: string, reason: string): Promise<void> {
        const r = await finish(browser, callback);
        assert.equal(r.status, 401);
        assert.equal(await codeOf(r), 'SSO_LOGIN_FAILED');
        assert.equal(browser.cookie(base, 'mt_session'), undefined, 'no session cookie');
        assert.equal((await lastFailure()).reason, reason);
      }

      it('refuses a callback whose state is not the one this browser started with, and a replayed one', async () => {
        idpA.signIn('alice-sub', { email: 'alice@h.example', groups: ['icu-nurses'] });
        const first = await authorize();
        const forged = new URL(first.callback);
        forged.searchParams.set('state', 'attacker-state');
        await refused(first.browser, forged.href, 'state-mismatch');
        // The attacker's browser (no state cookie) with the victim's callback URL.
        await refused(new TestBrowser(), first.callback, 'state-mismatch');
        // The real browser completes once; the same callback again is a replay.
        const second = await authorize();
        const state = second.browser.cookie(base, 'mt_oidc');
        assert.equal((await finish(second.browser, second.callback)).status, 200);
        const r = await fetch(second.callback, { redirect: 'manual', headers: { cookie: `mt_oidc=${state}` } });
        assert.equal(r.status, 401);
        assert.equal((await lastFailure()).reason, 'login-unknown');
      });

      it('refuses an ID token whose nonce is not the one this login sent', async () => {
        idpA.signIn('alice-sub', { email: 'alice@h.example', groups: ['icu-nurses'] });
        const { browser, callback } = await authorize({ tamper: (u) => u.searchParams.set('nonce', 'attacker-nonce') });
        await refused(browser, callback, 'token-rejected');
        assert.match((await lastFailure()).error ?? '', /nonce/);
      });

      it('refuses a response from another issuer (mix-up: same client id and redirect URI at another IdP)', async () => {
        idpB.signIn('alice-sub', { email: 'alice@h.example', groups: ['icu-nurses'] });
        const { browser, callback } = await authorize({ idp: idpB });
        assert.equal(new URL(callback).searchParams.get('iss'), idpB.issuer);
        await refused(browser, callback, 'token-rejected');
        assert.match((await lastFailure()).error ?? '', /iss/);
        // An attacker who strips the iss parameter gains nothing: the configured issuer announces it (RFC 9207 §2.4), so it must be there.
        const again = await authorize({ idp: idpB });
        const s2 = new URL(again.callback);
        s2.searchParams.delete('iss');
        await refused(again.browser, s2.href, 'token-rejected');
        assert.match((await lastFailure()).error ?? '', /"iss" \(issuer\) missing/);
      });

      it('refuses an email domain the hospital did not allow, and a user whose groups map to no role', async () => {
        idpA.signIn('mallory-sub', { email: 'mallory@evil.example', email_verified: true, groups: ['icu-nurses'] });
        let a = await authorize();
        await refused(a.browser, a.callback, 'domain-not-allowed');
        assert.equal(await userByEmail('mallory@evil.example'), undefined);
        idpA.signIn('carol-sub', { email: 'carol@h.example', groups: ['cafeteria'] });
        a = await authorize();
        await refused(a.browser, a.callback, 'no-role-mapped');
        idpA.signIn('dave-sub', { email: 'dave@h.example', email_verified: false, groups: ['icu-nurses'] });
        a = await authorize();
        await refused(a.browser, a.callback, 'email-not-verified');
        assert.equal(await userByEmail('carol@h.example'), undefined);
      });

      it('refuses an email that belongs to another hospital\'s account', async () => {
        await p.services.users.create({ tenantId: other, email: 'erin@h.example', role: 'clinician', password: 'erin password 1234', createdBy: 'test' });
        idpA.signIn('erin-sub', { email: 'erin@h.example', groups: ['icu-nurses'] });
        const a = await authorize();
        await refused(a.browser, a.callback, 'email-in-other-tenant');
        assert.equal((await userByEmail('erin@h.example'))?.tenant_id, other);
      });

      it('stops logins through a disabled provider, in-flight ones too', async () => {
        idpA.signIn('alice-sub', { email: 'alice@h.example', groups: ['icu-nurses'] });
        const inFlight = await authorize();
        assert.equal((await api(`/api/v1/sso/providers/${providerId}`, { method: 'DELETE', token: adminH })).status, 204);
        await refused(inFlight.browser, inFlight.callback, 'provider-disabled');
        const start = await api(`/api/v1/auth/oidc/${providerId}/login`);
        assert.equal(start.status, 404);
        assert.equal(await codeOf(start), 'SSO_PROVIDER_NOT_FOUND');
      });

      it('answers 502 when the provider cannot be reached', async () => {
        const closed = `http://127.0.0.1:${await freePort()}`;
        const r = await api('/api/v1/sso/providers', { method: 'POST', token: adminH, body: { name: 'down', issuer: closed, clientId: 'c', clientSecret: 's', allowedDomains: ['h.example'], defaultRole: 'clinician' } });
        const { id } = await r.json() as { id: string };
        const start = await api(`/api/v1/auth/oidc/${id}/login`);
        assert.equal(start.status, 502);
        assert.equal(await codeOf(start), 'SSO_PROVIDER_UNAVAILABLE');
      });
    });

    it('logs and audits no client secret, authorization code, state, nonce or session id', async () => {
      assert.ok(logged.length > 0);
      const audit = JSON.stringify(await p.services.db.selectFrom('audit_entry').selectAll().execute());
      for (const c of credentials) {
        assert.ok(!logged.includes(c), `a credential (${c.slice(0, 4)}...) appears in the log`);
        assert.ok(!audit.includes(c), `a credential (${c.slice(0, 4)}...) appears in the audit log`);
      }
      assert.ok(credentials.size > 10);
    });
  });
}
