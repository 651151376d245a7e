// The SDK's renewal timer against the real platform (EST on the HTTPS listener, embedded broker):
// with short-lived LDevIDs (MEDTRUST_LDEVID_VALIDITY_DAYS=1) and a lead time that makes renewal
// due 1.5 s after enrolment, the timer re-enrols over EST simplereenroll by itself, persists the
// new credentials, reconnects the agent with them, and schedules the next renewal from the new
// certificate; a refused re-enrolment is reported and retried, never silently dropped.
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DeviceAgent, EstClient, EstClientError, LdevidRenewal, msUntilExpiry, newKeyAndCsr, OfflineQueue, type DeviceCredentials } from '../../packages/device/src/index.ts';
import { loadConfig, Platform, type Listening } from '../../packages/server/src/index.ts';
import { createLogger } from '../../packages/server/src/logging/index.ts';

async function until(f: () => Promise<boolean> | boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('device SDK: LDevID renewal timer against the running platform', () => {
  let dir: string;
  let p: Platform;
  let listening: Listening;
  let rootPem: string;
  let deviceId: string;
  let agent: DeviceAgent | undefined;
  let renewal: LdevidRenewal | undefined;
  let enrolled: DeviceCredentials;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'medtrust-renew-'));
    const env = { MEDTRUST_DATA_DIR: join(dir, 'data'), MEDTRUST_HTTP_PORT: '0', MEDTRUST_HTTPS_PORT: '0', MEDTRUST_MQTT_PORT: '0', MEDTRUST_MASTER_KEY: 'renew-test-master-key-012345', MEDTRUST_LOG_LEVEL: 'silent', MEDTRUST_LDEVID_VALIDITY_DAYS: '1' };
    p = await Platform.open({ config: loadConfig(env), logger: createLogger({ level: 'silent' }) });
    listening = await p.start();
    const s = p.services;
    const d = await s.devices.create({ serial: 'RENEW-1', model: 'pump-x', hardwareRevision: 'A', tenantId: await s.tenants.ensureOperator() }, 'test');
    deviceId = d.id;
    rootPem = (await s.cas.get('root')).certificatePem;
    const secret = await s.enrollTokens.create({ deviceId, createdBy: 'test' });
    const { keyPem, csrDer } = await newKeyAndCsr(deviceId);
    const certPem = await new EstClient({ baseUrl: listening.httpsUrl, caPem: rootPem }).simpleEnroll(csrDer, { kind: 'secret', username: secret.username, password: secret.password });
    enrolled = { deviceId, certPem, keyPem, caPem: rootPem };
  });
  after(async () => {
    await renewal?.stop();
    await agent?.stop();
    await p?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const stored = async (): Promise<string[]> => (await p.services.db.selectFrom('telemetry_message').select('message_id').where('device_id', '=', deviceId).orderBy('seq').execute()).map((r) => r.message_id);
  const vitals = (id: string): object => ({ v: 1, id, ts: Date.now() - 100, kind: 'vitals', vitals: { spo2: { value: 96, unit: '%' } } });
  const serialOf = (pem: string): string => new X509Certificate(pem).serialNumber;
  const notAfterOf = (pem: string): number => Date.parse(new X509Certificate(pem).validTo);

  it('renews by itself before expiry, persists, reconnects with the new LDevID and reschedules', async () => {
    const lifeMs = notAfterOf(enrolled.certPem) - Date.parse(new X509Certificate(enrolled.certPem).validFrom);
    assert.ok(lifeMs <= 86_400_000 + 600_000, 'a short-lived (1 day) LDevID');
    agent = new DeviceAgent({ url: listening.mqttUrl!, credentials: enrolled, queue: new OfflineQueue({ file: join(dir, 'queue.jsonl') }), backoff: { baseMs: 100, maxMs: 500 } });
    agent.start();
    agent.publish('telemetry', vitals('r-1'));
    await until(async () => (await stored()).includes('r-1'));
    const renewBeforeMs = msUntilExpiry(enrolled.certPem) - 1500;
    const credsFile = join(dir, 'credentials.json');
    renewal = new LdevidRenewal({
      est: new EstClient({ baseUrl: listening.httpsUrl, caPem: rootPem }), agent, credentials: enrolled, renewBeforeMs, jitterRatio: 0,
      onRenewed: (c) => writeFileSync(credsFile, JSON.stringify(c)),
    });
    const renewed = new Promise<DeviceCredentials>((r) => renewal!.once('renewed', r));
    const startedAt = Date.now();
    renewal.start();
    assert.ok(renewal.nextAttemptAtMs > startedAt + 500, 'not renewed at once: it is not due yet');
    const next = await renewed;
    assert.ok(Date.now() - startedAt >= 1000, 'renewed when due, not before');
    assert.notEqual(serialOf(next.certPem), serialOf(enrolled.certPem));
    assert.notEqual(next.keyPem, enrolled.keyPem, 'a fresh key');
    assert.equal((JSON.parse(readFileSync(credsFile, 'utf8')) as DeviceCredentials).certPem, next.certPem);
    assert.equal(renewal.credentials.certPem, next.certPem);
    // The platform recorded the new certificate as the device's current LDevID.
    const current = await p.services.db.selectFrom('certificate').select(['serial', 'status']).where('device_id', '=', deviceId).where('profile', '=', 'ldevid').execute();
    assert.ok(current.some((c) => c.status === 'valid' && BigInt(`0x${c.serial}`) === BigInt(`0x${serialOf(next.certPem)}`)), JSON.stringify(current));
    // Next renewal: computed from the new certificate.
    const expected = notAfterOf(next.certPem) - renewBeforeMs;
    assert.ok(Math.abs(renewal.nextAttemptAtMs - expected) < 5, `${renewal.nextAttemptAtMs} vs ${expected}`);
    await renewal.stop();
    // The agent reconnected with the new LDevID and still delivers.
    agent.publish('telemetry', vitals('r-2'));
    await until(async () => (await stored()).includes('r-2'));
    const conns = await p.services.db.selectFrom('device_connection').select('cert_serial').where('device_id', '=', deviceId).orderBy('id').execute();
    assert.ok(conns.length >= 2);
    assert.equal(BigInt(`0x${conns.at(-1)!.cert_serial}`), BigInt(`0x${serialOf(next.certPem)}`));
  });

  it('reports a refused re-enrolment and schedules a retry before expiry, keeping the current credentials', async () => {
    const before = renewal!.credentials;
    const valid = await p.services.db.selectFrom('certificate').select('serial').where('device_id', '=', deviceId).where('profile', '=', 'ldevid').where('status', '=', 'valid').execute();
    assert.equal(valid.length, 1);
    await p.services.revocation.revoke(valid[0]!.serial, 'keyCompromise', 'test');
    const r2 = new LdevidRenewal({ est: new EstClient({ baseUrl: listening.httpsUrl, caPem: rootPem }), agent: agent!, credentials: before, retry: { baseMs: 60_000, maxMs: 60_000 }, jitterRatio: 0 });
    const failures: Error[] = [];
    r2.on('failed', (e) => failures.push(e));
    r2.start();
    const t0 = Date.now();
    await assert.rejects(r2.renewNow(), (e: unknown) => e instanceof EstClientError && e.status === 403 && e.code === 'CERT_REVOKED');
    assert.equal(failures.length, 1);
    assert.equal(r2.credentials.certPem, before.certPem);
    assert.ok(r2.nextAttemptAtMs >= t0 && r2.nextAttemptAtMs <= Date.now() + 60_000, 'retried within the backoff');
    await r2.stop();
  });
});
