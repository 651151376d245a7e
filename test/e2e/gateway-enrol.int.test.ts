// The device SDK end to end against the real platform (`Platform.start`: EST on the HTTPS
// listener, embedded MQTT broker, the platform's own CA hierarchy): enrol with a one-time secret,
// publish over MQTT with the LDevID, renew over EST simplereenroll, keep publishing with the
// renewed certificate, and see the old one refused.
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import mqtt from 'mqtt';
import { DeviceAgent, EstClient, newKeyAndCsr, OfflineQueue, renewIfDue, type DeviceCredentials } from '../../packages/device/src/index.ts';
import { DeviceAuthenticator, RegistryDeviceDirectory } from '../../packages/server/src/gateway/index.ts';
import { loadConfig, Platform, type Listening } from '../../packages/server/src/index.ts';
import { createLogger } from '../../packages/server/src/logging/index.ts';

async function until(f: () => Promise<boolean> | boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('device SDK against the running platform', () => {
  let dir: string;
  let p: Platform;
  let listening: Listening;
  let rootPem: string;
  let deviceId: string;
  let agent: DeviceAgent | undefined;
  let creds: DeviceCredentials;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'medtrust-enrol-'));
    const env = { MEDTRUST_DATA_DIR: join(dir, 'data'), MEDTRUST_HTTP_PORT: '0', MEDTRUST_HTTPS_PORT: '0', MEDTRUST_MQTT_PORT: '0', MEDTRUST_MASTER_KEY: 'enrol-test-master-key-012345', MEDTRUST_LOG_LEVEL: 'silent' };
    p = await Platform.open({ config: loadConfig(env), logger: createLogger({ level: 'silent' }) });
    listening = await p.start();
    const s = p.services;
    const operator = await s.tenants.ensureOperator();
    const d = await s.devices.create({ serial: 'SDK-1', model: 'pump-x', hardwareRevision: 'A', tenantId: operator }, 'test');
    deviceId = d.id;
    rootPem = (await s.cas.get('root')).certificatePem;
  });
  after(async () => {
    await agent?.stop();
    await p?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const stored = async (): Promise<string[]> => (await p.services.db.selectFrom('telemetry_message').select('message_id').where('device_id', '=', deviceId).orderBy('seq').execute()).map((r) => r.message_id);
  const vitals = (id: string): object => ({ v: 1, id, ts: Date.now() - 100, kind: 'vitals', vitals: { spo2: { value: 96, unit: '%' } } });

  it('enrols over EST with a one-time secret and publishes with the LDevID; the device becomes active', async () => {
    const secret = await p.services.enrollTokens.create({ deviceId, createdBy: 'test' });
    const est = new EstClient({ baseUrl: listening.httpsUrl, caPem: rootPem });
    const { keyPem, csrDer } = await newKeyAndCsr(deviceId);
    const certPem = await est.simpleEnroll(csrDer, { kind: 'secret', username: secret.username, password: secret.password });
    creds = { deviceId, certPem, keyPem, caPem: rootPem };
    // The secret is one-time.
    await assert.rejects(est.simpleEnroll((await newKeyAndCsr(deviceId)).csrDer, { kind: 'secret', username: secret.username, password: secret.password }), (e: { status: number }) => e.status === 401);
    agent = new DeviceAgent({ url: listening.mqttUrl!, credentials: creds, queue: new OfflineQueue({ file: join(dir, 'queue.jsonl') }), backoff: { baseMs: 100, maxMs: 500 } });
    agent.start();
    agent.publish('telemetry', vitals('e-1'));
    await until(async () => (await stored()).includes('e-1'));
    assert.equal((await p.services.devices.get(deviceId)).state, 'active');
  });

  it('renews over EST simplereenroll, reconnects with the new LDevID, and the old one is refused', async () => {
    const est = new EstClient({ baseUrl: listening.httpsUrl, caPem: rootPem });
    const old = creds;
    creds = await renewIfDue({ est, agent: agent!, credentials: creds, renewBeforeMs: 10 * 365 * 86_400_000 });
    assert.notEqual(creds.certPem, old.certPem);
    agent!.publish('telemetry', vitals('e-2'));
    await until(async () => (await stored()).includes('e-2'));
    // The superseded certificate, authenticated exactly as the broker does it.
    const a = new DeviceAuthenticator({ certificates: p.services.certificates, devices: new RegistryDeviceDirectory(p.services.devices) });
    await assert.rejects(a.authenticate(new X509Certificate(old.certPem).raw), { code: 'CERT_REVOKED' });
  });

  it('gives connect-time policies the connecting address: a device outside the allowed network is refused at CONNECT', async () => {
    const s = p.services;
    const operator = await s.tenants.ensureOperator();
    const yaml = [
      'name: clinical-network-only', 'trigger:', '  event: device.connect', 'rules:', '  - name: outside-clinical-network', '    when:', '      all:',
      '        - fact: connection.remoteAddress', '          notInCidr: [10.0.0.0/8]', '    actions:', '      - kind: deny', '',
    ].join('\n');
    const policy = await s.policies.store.save(operator, s.policies.parser.parseText(yaml), 'test');
    const connect = (): Promise<string> => new Promise((resolve) => {
      const c = mqtt.connect(listening.mqttUrl!, { clientId: `${deviceId}-probe`, cert: creds.certPem, key: creds.keyPem, ca: rootPem, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000 });
      c.on('connect', () => {
        resolve('connected');
        void c.endAsync(true);
      });
      c.on('error', (e) => {
        resolve(`refused: ${e.message}`);
        void c.endAsync(true);
      });
      c.on('close', () => resolve('closed'));
    });
    // The test connects from 127.0.0.1, outside 10.0.0.0/8.
    assert.match(await connect(), /refused|closed/);
    const decisions = await s.db.selectFrom('policy_decision').select(['rule', 'trigger', 'facts']).where('device_id', '=', deviceId).where('policy_id', '=', policy.id).execute();
    assert.equal(decisions.length, 1);
    assert.equal(decisions[0]!.trigger, 'device.connect');
    assert.equal(decisions[0]!.rule, 'outside-clinical-network');
    assert.match(decisions[0]!.facts, /"connection\.remoteAddress":"(::ffff:)?127\.0\.0\.1"/);
    const denied = await s.db.selectFrom('audit_entry').select('details').where('action', '=', 'gateway.connect').where('outcome', '=', 'denied').execute();
    assert.ok(denied.some((a) => /POLICY_DENIED/.test(a.details)));
    await s.policies.store.disable(operator, policy.id, 'test');
    assert.equal(await connect(), 'connected');
  });
});
