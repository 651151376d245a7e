import 'reflect-metadata';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../db/testing.ts';
import { createLogger, loadConfig, Platform } from '../index.ts';

// PHI and credentials never reach a log line: the whole platform runs with its real logger at
// `trace` into a captured destination while passwords, tokens and cookies go through every path
// (success, failure, lockout, malformed body, revoked token). SQLite only: this is about logging.
describe('credentials never reach the logs', () => {
  let t: TestDatabase;
  let p: Platform;
  let base: string;
  let logged = '';
  const PASSWORD = 'Tr0ub4dor&3-horse-battery';
  const capture = new Writable({ write(chunk: Buffer, _enc, cb) { logged += chunk.toString('utf8'); cb(); } });

  before(async () => {
    t = await createTestDatabase('sqlite');
    const logger = createLogger({ level: 'trace', destination: capture });
    p = await Platform.open({ config: loadConfig({ MEDTRUST_DATA_DIR: t.dataDir, MEDTRUST_HTTP_PORT: '0', MEDTRUST_HTTPS_PORT: '0', MEDTRUST_MQTT_PORT: '0' }), logger });
    base = (await p.start()).httpUrl;
  });
  after(async () => {
    await p.stop();
    await t.close();
  });

  it('logs neither passwords, bearer tokens nor session ids', async () => {
    const s = p.services;
    const tenant = await s.tenants.create({ kind: 'customer', name: 'H' });
    const generated = await s.users.create({ tenantId: tenant, email: 'gen@h.example', role: 'biomed', createdBy: 'test' });
    await s.users.create({ tenantId: tenant, email: 'nurse@h.example', role: 'clinician', password: PASSWORD, createdBy: 'test' });
    const token = (await s.tokens.create({ tenantId: tenant, role: 'hospital-admin', name: 't', createdBy: 'test' })).token;
    const post = (path: string, body: unknown, headers: Record<string, string> = {}) => fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

    const ok = await post('/api/v1/auth/login', { email: 'nurse@h.example', password: PASSWORD });
    assert.equal(ok.status, 200);
    const cookie = String(ok.headers.get('set-cookie')).split(';')[0]!;
    const sessionId = cookie.split('=')[1]!;
    await post('/api/v1/auth/login', { email: 'nurse@h.example', password: `${PASSWORD}x` });
    await post('/api/v1/auth/login', { email: 'nobody@h.example', password: PASSWORD });
    await post('/api/v1/auth/login', { email: 'nurse@h.example', password: PASSWORD, extra: PASSWORD });
    await post('/api/v1/auth/login', { email: 'nurse@h.example', password: PASSWORD.repeat(100) });
    await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"email":"nurse@h.example","password":"${PASSWORD}"` });
    assert.equal((await fetch(`${base}/api/v1/users`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
    await fetch(`${base}/api/v1/users`, { headers: { authorization: `Bearer ${token}x` } });
    await fetch(`${base}/api/v1/auth/me`, { headers: { cookie } });
    await post('/api/v1/users', { email: 'new@h.example', role: 'clinician', password: PASSWORD }, { authorization: `Bearer ${token}` });
    await post('/api/v1/auth/logout', {}, { cookie });
    await fetch(`${base}/api/v1/auth/me`, { headers: { cookie } });
    // The logger itself: redaction of the fields a careless call could pass.
    s.logger.info({ password: PASSWORD, body: { password: PASSWORD }, req: { headers: { authorization: `Bearer ${token}`, cookie } }, token }, 'careless');

    assert.ok(logged.length > 0, "the platform logged something at trace level");
    if (process.env.SHOW_LOG) process.stderr.write(logged);
    assert.ok(logged.includes('careless'));
    for (const [name, secret] of Object.entries({ password: PASSWORD, generatedPassword: generated.password!, token, tokenSecret: token.split('.')[1]!, sessionId })) {
      assert.ok(!logged.includes(secret), `${name} appears in the log`);
    }
    // The audit log holds no credential either.
    const audit = JSON.stringify(await s.db.selectFrom('audit_entry').selectAll().execute());
    for (const secret of [PASSWORD, token.split('.')[1]!, sessionId]) assert.ok(!audit.includes(secret));
  });
});
