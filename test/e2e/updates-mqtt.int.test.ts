// Campaigns over MQTT with the device SDK and the real embedded broker (mTLS with OpenSSL-made
// LDevIDs): desired state pushed and asked for on reconnect, a pump that is infusing defers, the
// device's status reports drive the campaign; malformed and foreign reports are refused. The
// UpdateChannel runs on the device's one connection (DeviceAgent, client id = device id).
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import mqtt from 'mqtt';
import { Registry } from 'prom-client';
import { DeviceAgent, OfflineQueue } from '../../packages/device/src/index.ts';
import { UpdateChannel, UpdateClient, type UpdateStatus } from '../../packages/device/src/update/index.ts';
import { DbAuditLog } from '../../packages/server/src/audit/index.ts';
import { LocalEventBus } from '../../packages/server/src/events/index.ts';
import { DeviceGateway } from '../../packages/server/src/gateway/index.ts';
import { createOpensslTestPki, type OpensslTestPki, type TestDeviceCert } from '../../packages/server/src/gateway/testing/openssl-test-pki.ts';
import { TableCertificateStore, TableDeviceDirectory } from '../../packages/server/src/gateway/testing/table-identity.ts';
import { createLogger } from '../../packages/server/src/logging/index.ts';
import { startUpdatesHarness, type UpdatesHarness } from './updates-harness.ts';

async function until(f: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('update campaigns over MQTT (device SDK, embedded broker, mTLS)', () => {
  let h: UpdatesHarness;
  let pki: OpensslTestPki;
  let gw: DeviceGateway;
  let work: string;
  let root: Buffer;
  const devs: Record<string, TestDeviceCert> = {};
  const stops: Array<() => Promise<void>> = [];
  let campaignId: string;

  before(async () => {
    h = await startUpdatesHarness({ dialect: 'sqlite', models: ['pump-m'] });
    pki = await createOpensslTestPki(h.t.db);
    for (const id of ['dev_infusing', 'dev_offline', 'dev_other']) devs[id] = await pki.enrolDevice({ deviceId: id, tenantId: h.tenantId, model: 'pump-m', state: 'active' });
    gw = await DeviceGateway.start({
      db: h.t.db, audit: new DbAuditLog({ db: h.t.db, dialect: 'sqlite' }), events: new LocalEventBus(), logger: createLogger({ level: 'silent' }), metrics: new Registry(), node: 'upd',
      certificates: new TableCertificateStore(h.t.db), devices: new TableDeviceDirectory(h.t.db),
      mqtt: { bindHost: '127.0.0.1', port: 0, tls: { key: pki.server.keyPem, cert: pki.server.chainPem, clientCas: [pki.operationalPem, pki.rootPem] } },
    });
    // The same wiring as Platform.start.
    gw.broker!.onUpdateStatus(async (session, payload) => void (await h.updates.channel.handle(session, 'update-status', payload)));
    h.updates.channel.bindPublisher((id, suffix, payload) => gw.broker!.publishToDevice(id, suffix, payload));
    work = mkdtempSync(join(tmpdir(), 'medtrust-upd-mqtt-'));
    root = Buffer.from(await (await fetch(`${h.url}/tuf/metadata/1.root.json`)).arrayBuffer());
    await h.publish('pump-m', '2.0.0', 'fw.bin', Buffer.from('pump-m 2.0.0 image'));
    // Only the tagged pilot devices are selected (the harness's own pump-m device is not).
    const biomed = (await h.tokens.create({ tenantId: h.tenantId, role: 'biomed', name: 'tags', createdBy: 'test' })).token;
    for (const id of ['dev_infusing', 'dev_offline']) assert.equal((await h.call('PUT', `/api/v1/devices/${id}/tags`, { tags: ['mqtt-pilot'] }, biomed)).status, 200);
  });
  after(async () => {
    for (const stop of stops) await stop();
    await gw.stop();
    await h.close();
    pki.close();
    rmSync(work, { recursive: true, force: true });
  });

  /** The SDK's update channel on the device's one connection; `start` subscribes, then connects. */
  const device = (id: string, o: { infusing?: () => boolean; statuses?: UpdateStatus[] } = {}): { channel: UpdateChannel; agent: DeviceAgent; start: () => void } => {
    const d = devs[id]!;
    const client = new UpdateClient({
      deviceId: id, model: 'pump-m', hardwareRevision: 'A', trustedRoot: root, metadataBaseUrl: `${h.url}/tuf/metadata`, targetBaseUrl: `${h.url}/tuf/targets`,
      dataDir: join(work, id), factory: { version: '1.0.0', releaseId: null, target: null, sha256: null }, healthCheck: async () => true,
      onStatus: (s) => o.statuses?.push(s), isSafeToInstall: () => !(o.infusing?.() ?? false),
    });
    const queue = new OfflineQueue({ file: join(work, `${id}-queue.jsonl`), fsync: false });
    const agent = new DeviceAgent({ url: `mqtts://127.0.0.1:${gw.broker!.port}`, credentials: { deviceId: id, certPem: d.certPem, keyPem: d.keyPem, caPem: pki.rootPem }, queue, backoff: { baseMs: 100, maxMs: 400 } });
    const channel = new UpdateChannel({ agent, client, recheckMs: 300 });
    stops.push(async () => {
      channel.stop();
      await agent.stop();
      queue.close();
    });
    return { channel, agent, start: () => {
      void channel.start();
      agent.start();
    } };
  };
  const row = async (deviceId: string) => h.t.db.selectFrom('campaign_device').select(['status', 'detail']).where('campaign_id', '=', campaignId).where('device_id', '=', deviceId).executeTakeFirstOrThrow();

  it('pushes the desired state to a connected pump, which defers while infusing and installs once idle', async () => {
    let infusing = true;
    const statuses: UpdateStatus[] = [];
    const pump = device('dev_infusing', { infusing: () => infusing, statuses });
    pump.start();
    // Connected and subscribed: its check on connect is answered with "none" before the campaign exists.
    const first = new Promise((r) => pump.channel.once('desired', r));
    await until(() => pump.agent.connected);
    assert.deepEqual(await first, { v: 1, kind: 'none' });
    const created = await h.call('POST', '/api/v1/campaigns', { releaseId: (await h.t.db.selectFrom('release').select('id').where('version', '=', '2.0.0').executeTakeFirstOrThrow()).id, name: 'pilot over mqtt', selection: { model: 'pump-m', tags: ['mqtt-pilot'] }, phases: [100], successThreshold: 1, failureThreshold: 0.5 });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    campaignId = created.body.id;
    assert.equal(created.body.counts.pending, 2);
    // Pushed (not asked for): the pump tries, the clinical gate defers it, the platform records why.
    await until(async () => (await row('dev_infusing')).detail === 'therapy-running');
    assert.deepEqual(await row('dev_infusing'), { status: 'pending', detail: 'therapy-running' });
    assert.equal((await h.call('GET', `/api/v1/campaigns/${campaignId}`)).body.deferredForTherapy, 1);
    assert.ok(statuses.some((s) => s.kind === 'pending' && s.reason === 'therapy-running'));
    assert.ok(!statuses.some((s) => s.kind === 'downloading'), 'nothing downloaded while infusing');
    // Therapy over: the next check installs it; the campaign hears every step.
    infusing = false;
    await until(async () => (await row('dev_infusing')).status === 'installed');
    assert.deepEqual(statuses.slice(-3).map((s) => s.kind), ['downloading', 'installing', 'installed']);
    const view = (await h.call('GET', `/api/v1/campaigns/${campaignId}`)).body;
    assert.equal(view.counts.installed, 1);
    assert.equal(view.deferredForTherapy, 0);
    assert.equal(view.state, 'running');
    // Desired states, checks and every status report: one MQTT connection, the device's own.
    const connections = await h.t.db.selectFrom('device_connection').select('disconnected_at').where('device_id', '=', 'dev_infusing').execute();
    assert.deepEqual(connections, [{ disconnected_at: null }]);
  });

  it('gives an offline device its desired state when it connects; its installed report completes the campaign', async () => {
    const late = device('dev_offline');
    const result = new Promise((r) => late.channel.once('result', r));
    late.start();
    assert.deepEqual(await result, { kind: 'installed', version: '2.0.0' });
    await until(async () => (await h.call('GET', `/api/v1/campaigns/${campaignId}`)).body.state === 'completed');
    const audit = await h.t.db.selectFrom('audit_entry').select(['actor', 'outcome']).where('action', '=', 'update.status').where('target', '=', `campaign:${campaignId}`).orderBy('seq').execute();
    assert.deepEqual(audit, [{ actor: 'device:dev_infusing', outcome: 'success' }, { actor: 'device:dev_offline', outcome: 'success' }]);
    assert.deepEqual(await h.updates.channel.desiredMessage('dev_offline'), { v: 1, kind: 'none' });
    // The registry now knows what both run (from the campaign's release), audited per device.
    const fw = await h.t.db.selectFrom('device').select(['id', 'firmware_version']).where('id', 'in', ['dev_infusing', 'dev_offline', 'dev_other']).orderBy('id').execute();
    assert.deepEqual(fw.map((d) => [d.id, d.firmware_version]), [['dev_infusing', '2.0.0'], ['dev_offline', '2.0.0'], ['dev_other', null]]);
    assert.equal((await h.t.db.selectFrom('audit_entry').select('actor').where('action', '=', 'device.firmware-recorded').where('target', '=', 'device:dev_offline').executeTakeFirstOrThrow()).actor, 'device:dev_offline');
  });

  describe('when a device sends what it must not', () => {
    it('refuses malformed reports and reports on a campaign it is not in; nothing changes', async () => {
      const d = devs.dev_other!;
      const client = await mqtt.connectAsync(`mqtts://127.0.0.1:${gw.broker!.port}`, { clientId: 'dev_other', cert: d.certPem, key: d.keyPem, ca: pki.rootPem, protocolVersion: 4, reconnectPeriod: 0 });
      try {
        const refusals: Array<{ code: string; details?: { campaignId?: string } }> = [];
        client.on('message', (topic, p) => { if (topic.endsWith('/errors')) refusals.push(JSON.parse(p.toString())); });
        await client.subscribeAsync('devices/dev_other/errors', { qos: 1 });
        const before = await row('dev_infusing');
        for (const bad of ['not json', '{"v":2,"kind":"check"}', JSON.stringify({ v: 1, campaignId, kind: 'exploded', version: '2.0.0' }), JSON.stringify({ v: 1, campaignId, kind: 'installed', reason: 'therapy-running' }), 'x'.repeat(5000)]) {
          await client.publishAsync('devices/dev_other/update-status', bad, { qos: 1 });
        }
        // A real campaign id, but dev_other is not in it: it cannot mark itself (or anyone) installed.
        await client.publishAsync('devices/dev_other/update-status', JSON.stringify({ v: 1, campaignId, kind: 'failed', version: '2.0.0', code: 'UPDATE_HEALTH_CHECK_FAILED' }), { qos: 1 });
        await until(() => refusals.length === 6);
        assert.ok(refusals.every((r) => r.code === 'UPDATE_STATUS_INVALID'), JSON.stringify(refusals));
        assert.equal(refusals[5]!.details?.campaignId, campaignId);
        assert.deepEqual(await row('dev_infusing'), before);
        const c = (await h.call('GET', `/api/v1/campaigns/${campaignId}`)).body;
        assert.deepEqual([c.state, c.counts.failed, c.counts.installed], ['completed', 0, 2]);
        const denied = await h.t.db.selectFrom('audit_entry').select('outcome').where('action', '=', 'update.status').where('actor', '=', 'device:dev_other').execute();
        assert.deepEqual(denied, [{ outcome: 'denied' }]);
        assert.equal(client.connected, true, 'bad reports are refused, not fatal');
        // A burst of checks is answered at once and once more at the end of the second (at most
        // one answer per second per device; the later checks are not left unanswered).
        const desired: string[] = [];
        client.on('message', (topic, p) => { if (topic.endsWith('/updates/desired')) desired.push(p.toString()); });
        await client.subscribeAsync('devices/dev_other/updates/desired', { qos: 1 });
        for (let i = 0; i < 5; i++) await client.publishAsync('devices/dev_other/update-status', JSON.stringify({ v: 1, kind: 'check' }), { qos: 1 });
        await until(() => desired.length >= 1);
        await new Promise((r) => setTimeout(r, 300));
        assert.deepEqual(desired.map((d) => JSON.parse(d)), [{ v: 1, kind: 'none' }]);
        await until(() => desired.length >= 2);
        await new Promise((r) => setTimeout(r, 1300));
        assert.deepEqual(desired.map((d) => JSON.parse(d)), [{ v: 1, kind: 'none' }, { v: 1, kind: 'none' }]);
      } finally {
        await client.endAsync(true);
      }
    });

    it('may not publish a desired state for itself', async () => {
      const d = devs.dev_other!;
      const client = await mqtt.connectAsync(`mqtts://127.0.0.1:${gw.broker!.port}`, { clientId: 'dev_other', cert: d.certPem, key: d.keyPem, ca: pki.rootPem, protocolVersion: 4, reconnectPeriod: 0 });
      const closed = new Promise<void>((r) => client.once('close', () => r()));
      client.publish('devices/dev_other/updates/desired', JSON.stringify({ v: 1, kind: 'install', campaignId: 'x', version: '9.9.9' }), { qos: 1 });
      await closed;
      const audit = await h.t.db.selectFrom('audit_entry').select('details').where('action', '=', 'gateway.publish').where('actor', '=', 'device:dev_other').executeTakeFirstOrThrow();
      assert.equal(JSON.parse(audit.details).code, 'TOPIC_FORBIDDEN');
      await client.endAsync(true);
    });
  });
});
