// The web dashboard end to end: a real platform (SQLite in a temp dir, ports 0) serving the built
// SPA, real services creating the users, device, certificate and alerts, and Debian Chromium driven
// by playwright-core: log in, open the device, acknowledge the alert, revoke the certificate, see a
// new alert arrive over SSE, start a campaign as the operator (fleet overview, policies dry run,
// audit verification on the way), and find a patient as a clinician.
import 'reflect-metadata';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { loadConfig, Platform } from '@medtrust/server';
import { AlertRuleStore, AlertService } from '../../packages/server/src/clinical/index.ts';
import { ensureWebBuilt, launchChromium, logIn, ROOT } from './dashboard-browser.ts';

const ARTIFACTS = join(ROOT, 'test-artifacts', 'dashboard');
const ADMIN = { email: 'admin@general.example', password: 'correct horse battery staple 1' };
const CLINICIAN = { email: 'nurse@general.example', password: 'correct horse battery staple 2' };
const OPERATOR = { email: 'ops@manufacturer.example', password: 'correct horse battery staple 3' };
const MODEL = 'InfuseCare-300';

// About 50 s on a quiet machine; the suite limit leaves room for a loaded CI runner (a suite that times
// out mid-test leaves Chromium and the platform open until the file-level limit).
describe('web dashboard (Chromium against a real platform)', { timeout: 240_000 }, () => {
  let dir: string;
  let p: Platform;
  let base: string;
  let browser: Browser;
  let alerts: AlertService;
  let hospitalId: string;
  let deviceId: string;
  let certSerial: string;
  let routesMissing: string | undefined;
  let releaseId: string;
  const cookieOf = async (ctx: { cookies(): Promise<Array<{ name: string; value: string }>> }) => (await ctx.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');

  before(async () => {
    // CI runs `npm ci` then the tests: build the dashboard once if it is not there.
    ensureWebBuilt();
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
    // The manufacturer: an operator admin, four more pumps in service (firmware 1.0.0) and a
    // published release 2.0.0 for the model, uploaded through the REST API like the CLI does.
    const operatorId = await s.tenants.ensureOperator();
    await s.users.create({ tenantId: operatorId, email: OPERATOR.email, role: 'operator-admin', password: OPERATOR.password, createdBy: 'test' });
    await s.db.insertInto('device').values(Array.from({ length: 4 }, (_, i) => ({ id: `dev_inservice${i}`, serial: `IC3-10000${i}`, model: MODEL, hardware_revision: 'B', tenant_id: hospitalId, site_id: null, state: 'active' as const, firmware_version: '1.0.0', batch_id: null, created_at: now, updated_at: now }))).execute();
    const release = (await s.tokens.create({ tenantId: operatorId, role: 'release-manager', name: 'e2e', createdBy: 'test' })).token;
    const up = await fetch(`${base}/api/v1/releases?model=${MODEL}&version=2.0.0&fileName=fw-2.0.0.bin`, { method: 'POST', headers: { authorization: `Bearer ${release}`, 'content-type': 'application/octet-stream' }, body: new Uint8Array(Buffer.from('firmware image 2.0.0')) });
    assert.equal(up.status, 201);
    releaseId = ((await up.json()) as { id: string }).id;
    for (const step of ['approve', 'publish']) assert.equal((await fetch(`${base}/api/v1/releases/${releaseId}/${step}`, { method: 'POST', headers: { authorization: `Bearer ${release}` } })).status, 200);
    // A patient on the pump, for the clinician's view.
    const patient = await s.clinical.patients.create(hospitalId, { mrn: 'MRN-4711', family: 'Lovelace', given: ['Ada'], birthDate: '1980-12-10' }, 'test');
    await s.clinical.patients.bind(hospitalId, patient.id, deviceId, 'test');
    // The dashboard needs the device and alert REST routes wired into the platform.
    const missing: string[] = [];
    for (const path of ['/api/v1/devices', '/api/v1/alerts']) if ((await fetch(base + path)).status === 404) missing.push(path);
    if (missing.length > 0) routesMissing = `not wired into the platform yet: ${missing.join(', ')}`;
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await p?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const login = (page: Page, who: { email: string; password: string }) => logIn(page, base, who);

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

  it('live alerts console: a new alert arrives over SSE at tablet width (820x1180)', async (t) => {
    if (routesMissing) return t.skip(routesMissing);
    const ctx = await browser.newContext({ viewport: { width: 820, height: 1180 } });
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
    await page.screenshot({ path: join(ARTIFACTS, 'alerts-820x1180.png'), fullPage: true });
    // Keyboard: Tab reaches the Acknowledge button and Enter presses it.
    const button = page.locator(`tr[data-alert-id="${raised!.id}"]`).getByRole('button', { name: 'Acknowledge' });
    await button.focus();
    await page.keyboard.press('Enter');
    await page.locator(`tr[data-alert-id="${raised!.id}"]`).getByText('acknowledged').waitFor();
    assert.equal((await alerts.get(hospitalId, raised!.id)).state, 'acknowledged');
    await ctx.close();
  });

  it('operator admin: fleet overview, start a campaign, dry-run a policy, verify the audit log', async (t) => {
    if (routesMissing) return t.skip(routesMissing);
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await ctx.newPage();
    await login(page, OPERATOR);
    const nav = page.getByRole('navigation', { name: 'Main' });
    assert.deepEqual(await nav.getByRole('link').allTextContents(), ['Fleet', 'Certificates', 'Releases', 'Vulnerabilities', 'Policies', 'Audit']);
    // Fleet overview: counts from the server's aggregate (1 provisioned + 4 active pumps).
    await nav.getByRole('link', { name: 'Fleet' }).click();
    const kpis = page.locator('.kpis');
    await kpis.getByText('devices').waitFor();
    assert.match(await kpis.innerText(), /5\s+devices/);
    const byState = page.locator('figure.bars', { hasText: 'By state' });
    assert.match(await byState.innerText(), /active\s+4/);
    await page.locator('figure.bars', { hasText: 'Vulnerability risk' }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'fleet-overview-1280x800.png'), fullPage: true });

    // Start a campaign for the published release: the form, then the card with its progress bar.
    await nav.getByRole('link', { name: 'Releases' }).click();
    await page.getByRole('heading', { name: 'Start a campaign' }).waitFor();
    await page.getByLabel('Name').fill('Pumps to 2.0.0');
    await page.getByLabel('Phases (% cumulative)').fill('50, 100');
    await page.getByRole('button', { name: 'Start campaign' }).click();
    const card = page.locator('article.campaign', { hasText: 'Pumps to 2.0.0' });
    await card.waitFor();
    assert.match(await card.innerText(), /4 pending/);
    await page.screenshot({ path: join(ARTIFACTS, 'releases-1280x800.png'), fullPage: true });
    const cookie = await cookieOf(ctx);
    const list = (await (await fetch(`${base}/api/v1/campaigns`, { headers: { cookie } })).json()) as { campaigns: Array<{ name: string; releaseId: string; phases: number[]; counts: { pending: number } }> };
    assert.equal(list.campaigns.length, 1);
    const [started] = list.campaigns;
    assert.deepEqual([started?.name, started?.releaseId, started?.phases, started?.counts.pending], ['Pumps to 2.0.0', releaseId, [50, 100], 4]);
    // PHI stays with clinicians: the operator's session is refused patients.
    assert.equal((await fetch(`${base}/api/v1/patients?mrn=MRN-4711`, { headers: { cookie } })).status, 403);
    // A bad phase list is the API's coded error, shown in the form; nothing more is created.
    await page.getByLabel('Phases (% cumulative)').fill('50, 90');
    await page.getByRole('button', { name: 'Start campaign' }).click();
    await page.getByRole('alert').filter({ hasText: 'CAMPAIGN_INVALID' }).waitFor();
    assert.equal(((await (await fetch(`${base}/api/v1/campaigns`, { headers: { cookie } })).json()) as { campaigns: unknown[] }).campaigns.length, 1);

    // Policies: the dry run of the shipped example changes nothing and names what it would do.
    await nav.getByRole('link', { name: 'Policies' }).click();
    await page.getByRole('button', { name: 'Dry run' }).click();
    await page.getByText(/Policy kev-quarantine would act on \d+ device/).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'policies-1280x800.png'), fullPage: true });

    // Audit: the chain verifies, and the campaign is in the log.
    await nav.getByRole('link', { name: 'Audit' }).click();
    await page.getByRole('button', { name: 'Verify the hash chain' }).click();
    await page.getByText(/^Verified: /).waitFor();
    await page.getByLabel('Action').fill('campaign.created');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByRole('cell', { name: 'campaign.created' }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'audit-1280x800.png'), fullPage: true });

    await nav.getByRole('link', { name: 'Vulnerabilities' }).click();
    await page.getByRole('cell', { name: '1.0.0' }).waitFor();
    await nav.getByRole('link', { name: 'Certificates' }).click();
    await page.getByRole('heading', { name: 'Issued certificates' }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'certificates-1280x800.png'), fullPage: true });
    await ctx.close();
  });

  it('tablet (820x1180): fleet overview and device page fit, no horizontal page scroll', async (t) => {
    if (routesMissing) return t.skip(routesMissing);
    const ctx = await browser.newContext({ viewport: { width: 820, height: 1180 } });
    const page = await ctx.newPage();
    await login(page, ADMIN);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Fleet' }).click();
    await page.locator('figure.bars', { hasText: 'By model' }).waitFor();
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'page wider than the tablet');
    await page.screenshot({ path: join(ARTIFACTS, 'fleet-820x1180.png'), fullPage: true });
    await page.goto(`${base}/devices/${deviceId}`);
    await page.locator('figure.chart svg').first().waitFor();
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'device page wider than the tablet');
    await page.screenshot({ path: join(ARTIFACTS, 'device-820x1180.png'), fullPage: true });
    await ctx.close();
  });

  it('clinician: alerts and patients only; finds a patient by MRN and opens the bound device', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await ctx.newPage();
    await login(page, CLINICIAN);
    const nav = page.getByRole('navigation', { name: 'Main' });
    const links = await nav.getByRole('link').allTextContents();
    assert.deepEqual(links, ['Alerts', 'Patients']);
    await nav.getByRole('link', { name: 'Patients' }).click();
    await page.getByLabel('MRN').fill('MRN-4711');
    await page.getByRole('button', { name: 'Find' }).click();
    await page.getByRole('heading', { name: 'Lovelace, Ada' }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'patient-1280x800.png'), fullPage: true });
    await page.getByRole('link', { name: deviceId }).click();
    await page.locator('figure.chart svg').first().waitFor();
    await page.getByLabel('MRN').waitFor({ state: 'detached' });
    // The API, not the menu, is the boundary: a clinician's certificate read is refused.
    const cookie = (await ctx.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
    const r = await fetch(`${base}/api/v1/certificates?deviceId=${deviceId}`, { headers: { cookie } });
    assert.equal(r.status, 403);
    assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'FORBIDDEN');
    await page.screenshot({ path: join(ARTIFACTS, 'clinician-1280x800.png') });
    await ctx.close();
  });
});
