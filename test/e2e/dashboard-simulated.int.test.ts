// The web dashboard against a platform fed by the simulator, not by hand: the demo's hospital set-up
// (drug library, default alarm rules), a small ICU fleet factory-provisioned, enrolled over EST and
// reporting over mTLS MQTT with backfilled history, so the alerts come through gateway -> alert
// rules. Debian Chromium (playwright-core) then logs in, opens a simulated device, acknowledges the
// alert the simulator caused, revokes the device's certificate, and as operator starts a campaign.
import 'reflect-metadata';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { loadConfig, Platform } from '@medtrust/server';
import { simProfile, type SimDeviceKind } from '../../packages/device/src/sim/index.ts';
import { admitPatients, setUpHospital } from '../../packages/cli/src/sim/demo-hospital.ts';
import { type FleetBundle, kindOfModel, provisionFleet } from '../../packages/cli/src/sim/fleet-bundles.ts';
import { startSimulation } from '../../packages/cli/src/sim/run-simulation.ts';
import type { Output } from '../../packages/cli/src/output.ts';
import { ensureWebBuilt, launchChromium, logIn, ROOT } from './dashboard-browser.ts';

const ARTIFACTS = join(ROOT, 'test-artifacts', 'dashboard-simulated');
const ADMIN = { email: 'charge@sim-hospital.example', password: 'correct horse battery staple 4' };
const OPERATOR = { email: 'ops@sim-manufacturer.example', password: 'correct horse battery staple 5' };
const RELEASE_MODEL = 'InfuSim-P300X';
const BACKFILL_MS = 2 * 60_000;
const quiet: Output = { out: () => undefined, err: () => undefined, isTty: false };

describe('web dashboard on a simulated ICU (Chromium, simulator -> EST -> MQTT -> alerts)', { timeout: 240_000 }, () => {
  let dir: string;
  let p: Platform;
  let base: string;
  let browser: Browser;
  let sim: { stop(): Promise<void> } | undefined;
  let hospitalId: string;
  let monitor: FleetBundle;
  let extraPump: FleetBundle;
  let releaseId: string;
  const cookieOf = async (ctx: { cookies(): Promise<Array<{ name: string; value: string }>> }) => (await ctx.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');

  before(async () => {
    ensureWebBuilt();
    mkdirSync(ARTIFACTS, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'mt-dashboard-sim-'));
    p = await Platform.open({ config: loadConfig({ MEDTRUST_DATA_DIR: join(dir, 'data'), MEDTRUST_HTTP_PORT: '0', MEDTRUST_HTTPS_PORT: '0', MEDTRUST_MQTT_PORT: '0', MEDTRUST_MASTER_KEY: 'sim-dashboard-master-key-0123456789', MEDTRUST_LOG_LEVEL: 'silent' }) });
    const listening = await p.start();
    base = listening.httpUrl;
    const s = p.services;
    // The demo's hospital: tenant, ICU drug library, the default threshold alarm rules.
    hospitalId = (await setUpHospital(p, join(dir, 'hospital'))).tenantId;
    await s.users.create({ tenantId: hospitalId, email: ADMIN.email, role: 'hospital-admin', password: ADMIN.password, createdBy: 'test' });
    const operatorId = await s.tenants.ensureOperator();
    await s.users.create({ tenantId: operatorId, email: OPERATOR.email, role: 'operator-admin', password: OPERATOR.password, createdBy: 'test' });
    // Six ICU devices (2 monitors, 3 pumps, 1 glucose monitor), claimed by the hospital as the demo does.
    const profile = simProfile('icu');
    const fleetDir = join(dir, 'fleet');
    const simBundles = await provisionFleet(p, { dir: fleetDir, count: 6, profile, tenantId: operatorId });
    // The simulator's own model names have a space, which a release (a TUF target path) refuses with
    // RELEASE_MODEL_UNKNOWN; one more pump leaves the factory under a release-able name, placed where
    // the ICU mix puts a pump so the simulator runs it as one (what `medtrust factory provision` does).
    const [extra] = await s.provisioning.provision({ model: RELEASE_MODEL, hardwareRevision: 'A', serials: ['SIMX-000001'], tenantId: operatorId, actor: 'test' });
    await s.devices.recordFirmware(extra!.id, '3.2.1', 'factory');
    extraPump = { id: extra!.id, serial: extra!.serial, model: extra!.model, dir: join(fleetDir, extra!.serial), chainPem: extra!.idevid.chainPem, keyPem: extra!.privateKeyPem! };
    const bundles = [simBundles[0]!, extraPump, ...simBundles.slice(1)];
    for (const b of bundles) await s.devices.assign(b.id, hospitalId, null, 'test');
    const of = (kind: SimDeviceKind) => simBundles.filter((b) => kindOfModel(b.model) === kind);
    monitor = of('patient-monitor')[0]!;
    const startMs = Date.now() - BACKFILL_MS;
    await admitPatients(p, hospitalId, [{ mrn: 'SIM-2001', family: 'Hopper', given: 'Grace', birthDate: '1950-12-09', deviceIds: [monitor.id] }], startMs - 60_000);
    const caPem = (await s.cas.get('root')).certificatePem;
    const running = await startSimulation({
      bundles, profile, seed: '3', estUrl: listening.httpsUrl.replace('127.0.0.1', 'localhost'), mqttUrl: listening.mqttUrl!, caPem, dir: fleetDir, backfillMs: BACKFILL_MS, output: quiet,
      // A desaturation in the backfilled history: it arrives on connect and the Desaturation rule raises it.
      prepare: (fleet) => fleet.devices.find((d) => d.serial === monitor.serial)!.trigger('desaturation', startMs + 30_000),
    });
    sim = running;
    // A published release for the simulated pump, uploaded through the REST API as the CLI does.
    const release = (await s.tokens.create({ tenantId: operatorId, role: 'release-manager', name: 'e2e', createdBy: 'test' })).token;
    const up = await fetch(`${base}/api/v1/releases?model=${RELEASE_MODEL}&version=9.0.0&fileName=fw-9.0.0.bin`, { method: 'POST', headers: { authorization: `Bearer ${release}`, 'content-type': 'application/octet-stream' }, body: new Uint8Array(Buffer.from('firmware image 9.0.0')) });
    assert.equal(up.status, 201, await up.clone().text());
    releaseId = ((await up.json()) as { id: string }).id;
    for (const step of ['approve', 'publish']) assert.equal((await fetch(`${base}/api/v1/releases/${releaseId}/${step}`, { method: 'POST', headers: { authorization: `Bearer ${release}` } })).status, 200);
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await sim?.stop();
    await p?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const login = (page: Page, who: { email: string; password: string }) => logIn(page, base, who);

  it('hospital admin: fleet -> simulated monitor -> acknowledge its desaturation alert -> revoke its certificate', async () => {
    // The simulator's alert, raised by the platform from the replayed readings (nothing inserted by the test).
    const end = Date.now() + 30_000;
    let desat: { id: string; state: string } | undefined;
    while (!desat && Date.now() < end) {
      desat = (await p.services.clinical.alerts.list(hospitalId, { deviceId: monitor.id, state: 'raised' })).find((a) => (a.details as { rule?: string }).rule === 'Desaturation');
      if (!desat) await new Promise((r) => setTimeout(r, 250));
    }
    assert.ok(desat, 'the simulated desaturation raised an alert');
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await ctx.newPage();
    await login(page, ADMIN);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Fleet' }).click();
    await page.getByRole('link', { name: monitor.serial }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'fleet-1280x800.png'), fullPage: true });
    await page.getByRole('link', { name: monitor.serial }).click();
    await page.getByRole('heading', { name: /VitaSim-M5/ }).waitFor();
    const row = page.locator(`tr[data-alert-id="${desat.id}"]`);
    await row.getByRole('button', { name: 'Acknowledge' }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'device-1280x800.png'), fullPage: true });
    await row.getByRole('button', { name: 'Acknowledge' }).click();
    await row.getByText('acknowledged').waitFor();
    const cookie = await cookieOf(ctx);
    const acked = (await (await fetch(`${base}/api/v1/alerts/${desat.id}`, { headers: { cookie } })).json()) as { state: string; acknowledgedBy: string };
    assert.equal(acked.state, 'acknowledged');
    assert.match(acked.acknowledgedBy, /^user:/);

    // The certificate the device enrolled for over EST (its LDevID; the hospital sees its own devices' certificates).
    const certs = ((await (await fetch(`${base}/api/v1/certificates?deviceId=${monitor.id}`, { headers: { cookie } })).json()) as { certificates: Array<{ serial: string; status: string; profile: string }> }).certificates;
    const target = certs.find((c) => c.status === 'valid' && c.profile === 'ldevid');
    assert.ok(target, `an LDevID from EST expected: ${JSON.stringify(certs)}`);
    const certRow = page.locator('tr', { hasText: target.serial.slice(0, 16) });
    page.once('dialog', (d) => void d.accept());
    await certRow.getByLabel('Revocation reason').selectOption('keyCompromise');
    await certRow.getByRole('button', { name: 'Revoke' }).click();
    await certRow.getByText('(keyCompromise)').waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'device-revoked-1280x800.png'), fullPage: true });
    const cert = (await (await fetch(`${base}/api/v1/certificates/${target.serial}`, { headers: { cookie } })).json()) as { status: string; revocationReason: string };
    assert.deepEqual([cert.status, cert.revocationReason], ['revoked', 'keyCompromise']);
    await ctx.close();
  });

  it('operator admin: starts a campaign for the simulated pumps', async () => {
    // The pump under the release-able name enrolled over EST and reported like its siblings.
    assert.equal((await p.services.devices.get(extraPump.id)).state, 'active');
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await ctx.newPage();
    await login(page, OPERATOR);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Releases' }).click();
    await page.getByRole('heading', { name: 'Start a campaign' }).waitFor();
    await page.getByLabel('Name').fill('Simulated pumps to 9.0.0');
    await page.getByLabel('Phases (% cumulative)').fill('50, 100');
    await page.getByRole('button', { name: 'Start campaign' }).click();
    const card = page.locator('article.campaign', { hasText: 'Simulated pumps to 9.0.0' });
    await card.waitFor();
    // Only the pump under the release's model is a target; its siblings under the simulator's name are not.
    assert.match(await card.innerText(), /\b1 pending/);
    await page.screenshot({ path: join(ARTIFACTS, 'releases-1280x800.png'), fullPage: true });
    const list = (await (await fetch(`${base}/api/v1/campaigns`, { headers: { cookie: await cookieOf(ctx) } })).json()) as { campaigns: Array<{ name: string; releaseId: string; counts: { pending: number } }> };
    assert.deepEqual(list.campaigns.map((c) => [c.name, c.releaseId, c.counts.pending]), [['Simulated pumps to 9.0.0', releaseId, 1]]);
    await ctx.close();
  });
});
