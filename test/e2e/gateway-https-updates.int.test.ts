// The device HTTPS API for update checks and status (GET /device/v1/updates/desired, POST
// /device/v1/update-status) on the running platform (`Platform.start`, both dialects): LDevIDs
// issued by the platform over EST, a real node:https client with keep-alive. Authentication once
// per TLS connection, and live cuts of those connections on revocation and quarantine.
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { EstClient, newKeyAndCsr } from '../../packages/device/src/index.ts';
import { createTestDatabase, TEST_DIALECTS, type TestDatabase } from '../../packages/server/src/db/testing.ts';
import { loadConfig, Platform } from '../../packages/server/src/index.ts';
import { createLogger } from '../../packages/server/src/logging/index.ts';

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON under test, checked field by field
  readonly json: any;
  readonly socket: TLSSocket;
}

async function until(f: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A device's HTTPS client: one keep-alive TLS connection at a time with its LDevID. */
class DeviceClient {
  readonly agent: Agent;
  constructor(readonly port: number, tls: { cert?: string; key?: string; ca: string }) {
    this.agent = new Agent({ keepAlive: true, maxSockets: 1, ...tls });
  }

  call(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Answer> {
    return new Promise((resolve, reject) => {
      let socket: TLSSocket | undefined;
      const req = request({ host: '127.0.0.1', port: this.port, method, path, agent: this.agent, headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, json: text ? JSON.parse(text) : undefined, socket: socket! });
        });
      });
      req.on('socket', (s) => (socket = s as TLSSocket));
      req.on('error', reject);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

for (const dialect of TEST_DIALECTS) {
  describe(`device HTTPS update endpoints on the platform (${dialect})`, () => {
    let dir: string;
    let t: TestDatabase | undefined;
    let p: Platform;
    let port: number;
    let rootPem: string;
    const clients = new Map<string, DeviceClient>();
    const creds: Record<string, { cert: string; key: string }> = {};
    const ids: Record<string, string> = {};
    let releaseId: string;

    /** The device's client (one keep-alive connection, reused across tests). */
    const device = (name: string): DeviceClient => {
      let c = clients.get(name);
      if (!c) clients.set(name, (c = new DeviceClient(port, { ...creds[name]!, ca: rootPem })));
      return c;
    };
    const status = (campaignId: string, kind: string, extra: Record<string, unknown> = {}): string => JSON.stringify({ v: 1, campaignId, kind, version: '2.0.0', ...extra });
    const audit = async (where: { action: string; actor?: string; target?: string }) => {
      let q = p.services.db.selectFrom('audit_entry').select(['actor', 'outcome', 'details', 'target']).where('action', '=', where.action);
      if (where.actor) q = q.where('actor', '=', where.actor);
      if (where.target) q = q.where('target', '=', where.target);
      return q.orderBy('seq').execute();
    };

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'medtrust-https-upd-'));
      const env: Record<string, string> = { MEDTRUST_DATA_DIR: join(dir, 'data'), MEDTRUST_HTTP_PORT: '0', MEDTRUST_HTTPS_PORT: '0', MEDTRUST_MQTT_PORT: '0', MEDTRUST_MASTER_KEY: 'https-updates-test-master-key-0123', MEDTRUST_LOG_LEVEL: 'silent' };
      if (dialect === 'postgres') {
        t = await createTestDatabase('postgres');
        env.MEDTRUST_DATABASE_URL = t.url!;
      }
      p = await Platform.open({ config: loadConfig(env), logger: createLogger({ level: 'silent' }) });
      const listening = await p.start();
      port = Number(new URL(listening.httpsUrl).port);
      const s = p.services;
      rootPem = (await s.cas.get('root')).certificatePem;
      const tenantId = await s.tenants.ensureOperator();
      // LDevIDs as a device gets them: EST simpleenroll with a one-time secret.
      for (const [name, model] of [['pumpA', 'pump-h'], ['pumpB', 'pump-h'], ['other', 'monitor-h'], ['revoked', 'monitor-h'], ['quarantined', 'monitor-h'], ['limited', 'monitor-h']] as const) {
        const d = await s.devices.create({ serial: `H-${name}`, model, hardwareRevision: 'A', tenantId }, 'test');
        const secret = await s.enrollTokens.create({ deviceId: d.id, createdBy: 'test' });
        const { keyPem, csrDer } = await newKeyAndCsr(d.id);
        const certPem = await new EstClient({ baseUrl: listening.httpsUrl, caPem: rootPem }).simpleEnroll(csrDer, { kind: 'secret', username: secret.username, password: secret.password });
        creds[name] = { cert: certPem, key: keyPem };
        ids[name] = d.id;
      }
      const rel = await s.updates.releases.create({ tenantId, models: ['pump-h'], version: '2.0.0', fileName: 'fw.bin', artifact: Buffer.from('pump-h 2.0.0'), actor: 'test' });
      await s.updates.releases.transition(rel.id, 'approve', 'test');
      await s.updates.releases.transition(rel.id, 'publish', 'test');
      releaseId = rel.id;
    });
    after(async () => {
      for (const c of clients.values()) c.close();
      await p?.stop();
      await t?.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const idOf = (name: string): string => ids[name]!;

    it('answers the desired state as over MQTT (none, then install or wait per phase), with an ETag and 304', async () => {
      const a = device('pumpA');
      const none = await a.call('GET', '/device/v1/updates/desired');
      assert.equal(none.status, 200);
      assert.deepEqual(none.json, { v: 1, kind: 'none' });
      assert.deepEqual(none.json, await p.services.updates.channel.desiredMessage(idOf('pumpA')));
      const etag = String(none.headers.etag);
      const same = await a.call('GET', '/device/v1/updates/desired', undefined, { 'if-none-match': etag });
      assert.equal(same.status, 304);
      assert.equal(same.socket, none.socket, 'one keep-alive connection');

      const c = await p.services.updates.campaigns.create({ releaseId, name: 'https pilot', selection: { model: 'pump-h' }, phases: [50, 100], successThreshold: 1, failureThreshold: 1, actor: 'test' });
      const rows = await p.services.db.selectFrom('campaign_device').select(['device_id', 'phase']).where('campaign_id', '=', c.id).execute();
      assert.deepEqual(rows.map((r) => r.phase).sort(), [0, 1]);
      for (const name of ['pumpA', 'pumpB']) {
        const r = await device(name).call('GET', '/device/v1/updates/desired', undefined, { 'if-none-match': etag });
        const phase = rows.find((x) => x.device_id === idOf(name))!.phase;
        assert.equal(r.status, 200, 'the state changed, so the old ETag does not match');
        assert.deepEqual(r.json, phase === 0
          ? { v: 1, kind: 'install', campaignId: c.id, releaseId, version: '2.0.0', target: r.json.target, emergency: false }
          : { v: 1, kind: 'wait', campaignId: c.id, reason: 'phase' });
        assert.deepEqual(r.json, await p.services.updates.channel.desiredMessage(idOf(name)));
        if (phase === 0) assert.match(r.json.target, /fw\.bin/);
      }
      // A check posted on update-status answers the same state.
      const checked = await a.call('POST', '/device/v1/update-status', JSON.stringify({ v: 1, kind: 'check' }));
      assert.equal(checked.status, 200);
      assert.deepEqual(checked.json, await p.services.updates.channel.desiredMessage(idOf('pumpA')));
    });

    it('answers later polls on a connection before the router, byte for byte as the route; a failed lookup gets the route\'s coded error', async () => {
      const path = '/device/v1/updates/desired';
      // Requests the Fastify route answered (its duration histogram); the fast path is not counted there.
      const routed = async (): Promise<number> => {
        const m = await p.services.metrics.getSingleMetric('medtrust_http_request_duration_seconds')!.get();
        return m.values.filter((v) => v.labels.route === path && String((v as { metricName?: string }).metricName).endsWith('_count')).reduce((a, v) => a + v.value, 0);
      };
      const c = new DeviceClient(port, { ...creds.pumpB!, ca: rootPem });
      clients.set('pumpB-fast', c);
      const before = await routed();
      const first = await c.call('GET', path);
      const second = await c.call('GET', path);
      assert.equal(second.socket, first.socket);
      assert.equal(await routed(), before + 1, 'the first request authenticates the connection through the route; the second skips it');
      assert.deepEqual([second.status, second.json], [first.status, first.json]);
      assert.deepEqual(second.json, await p.services.updates.channel.desiredMessage(idOf('pumpB')));
      for (const h of ['etag', 'cache-control', 'content-type', 'content-length']) assert.equal(second.headers[h], first.headers[h], h);
      const unchanged = await c.call('GET', path, undefined, { 'if-none-match': String(first.headers.etag) });
      assert.deepEqual([unchanged.status, unchanged.headers.etag, unchanged.headers['cache-control']], [304, first.headers.etag, 'private, no-cache']);
      // The lookup fails (the store is down): the request goes to the route, which answers the coded error.
      const channel = p.services.updates.channel as unknown as { desiredMessage: (id: string) => Promise<object> };
      const real = channel.desiredMessage;
      channel.desiredMessage = () => Promise.reject(new Error('database unreachable'));
      try {
        const failed = await c.call('GET', path);
        assert.deepEqual([failed.status, failed.json.error.code], [500, 'INTERNAL']);
        assert.equal(await routed(), before + 2);
      } finally {
        channel.desiredMessage = real;
      }
      const again = await c.call('GET', path);
      assert.deepEqual([again.status, again.json], [200, first.json]);
    });

    it('records status reports that drive the campaign: installed completes it, records the firmware, audited', async () => {
      const c = (await p.services.db.selectFrom('campaign').select('id').where('name', '=', 'https pilot').executeTakeFirstOrThrow()).id;
      const rows = await p.services.db.selectFrom('campaign_device').select(['device_id', 'phase']).where('campaign_id', '=', c).orderBy('phase').execute();
      const nameOf = (id: string): string => Object.keys(ids).find((k) => ids[k] === id)!;
      const first = nameOf(rows[0]!.device_id);
      const second = nameOf(rows[1]!.device_id);
      const d = device(first);
      assert.deepEqual((await d.call('POST', '/device/v1/update-status', status(c, 'pending', { reason: 'therapy-running' }))).json, { outcome: 'recorded' });
      const row = () => p.services.db.selectFrom('campaign_device').select(['status', 'detail']).where('campaign_id', '=', c).where('device_id', '=', idOf(first)).executeTakeFirstOrThrow();
      assert.deepEqual(await row(), { status: 'pending', detail: 'therapy-running' });
      for (const kind of ['downloading', 'installing', 'installed']) assert.equal((await d.call('POST', '/device/v1/update-status', status(c, kind))).status, 202);
      assert.deepEqual(await row(), { status: 'installed', detail: null });
      // Sent again (its answer was lost): accepted, and neither recorded nor audited a second time.
      assert.deepEqual((await d.call('POST', '/device/v1/update-status', status(c, 'installed'))).json, { outcome: 'recorded' });
      assert.equal((await p.services.devices.get(idOf(first))).firmwareVersion, '2.0.0');
      assert.deepEqual((await d.call('GET', '/device/v1/updates/desired')).json, { v: 1, kind: 'none' });
      // The first phase succeeded: the second opens, and its device is told to install.
      await until(async () => (await device(second).call('GET', '/device/v1/updates/desired')).json.kind === 'install');
      await device(second).call('POST', '/device/v1/update-status', status(c, 'installed'));
      await until(async () => (await p.services.updates.campaigns.get(c)).state === 'completed');
      const entries = await audit({ action: 'update.status', target: `campaign:${c}` });
      assert.deepEqual(entries.map((e) => [e.actor, e.outcome]), [[`device:${idOf(first)}`, 'success'], [`device:${idOf(second)}`, 'success']]);
    });

    describe('when a device sends what it must not', () => {
      it('refuses malformed reports with UPDATE_STATUS_INVALID, a foreign campaign too (audited); nothing changes', async () => {
        const c = (await p.services.db.selectFrom('campaign').select('id').where('name', '=', 'https pilot').executeTakeFirstOrThrow()).id;
        const o = device('other');
        for (const bad of ['not json', '{"v":2,"kind":"check"}', status(c, 'exploded'), status(c, 'installed', { reason: 'therapy-running' }), '[]']) {
          const r = await o.call('POST', '/device/v1/update-status', bad);
          assert.deepEqual([r.status, r.json.error?.code], [400, 'UPDATE_STATUS_INVALID'], bad);
        }
        const big = await o.call('POST', '/device/v1/update-status', JSON.stringify({ v: 1, kind: 'check', pad: 'x'.repeat(5000) }));
        assert.deepEqual([big.status, big.json.error?.code], [413, 'PAYLOAD_TOO_LARGE']);
        const foreign = await o.call('POST', '/device/v1/update-status', status(c, 'failed', { code: 'UPDATE_HEALTH_CHECK_FAILED' }));
        assert.deepEqual([foreign.status, foreign.json.error?.code, foreign.json.error?.details], [400, 'UPDATE_STATUS_INVALID', { campaignId: c }]);
        assert.deepEqual((await audit({ action: 'update.status', actor: `device:${idOf('other')}` })).map((e) => [e.outcome, JSON.parse(e.details).code]), [['denied', 'UPDATE_STATUS_INVALID']]);
        const view = await p.services.updates.campaigns.get(c);
        assert.deepEqual([view.counts.failed, view.counts.installed], [0, 2]);
      });

      it('refuses a request without a client certificate with a coded error, audited, and closes the connection', async () => {
        const anon = new DeviceClient(port, { ca: rootPem });
        clients.set('anonymous', anon);
        const r = await anon.call('GET', '/device/v1/updates/desired');
        assert.deepEqual([r.status, r.json.error.code, r.headers.connection], [401, 'CLIENT_CERT_REQUIRED', 'close']);
        assert.equal((await anon.call('POST', '/device/v1/update-status', '{"v":1,"kind":"check"}')).json.error.code, 'CLIENT_CERT_REQUIRED');
        const denied = await audit({ action: 'gateway.connect', actor: 'device:unauthenticated' });
        assert.ok(denied.some((e) => JSON.parse(e.details).transport === 'https' && JSON.parse(e.details).code === 'CLIENT_CERT_REQUIRED'));
      });

      it('limits a device to its token bucket with 429 RATE_LIMITED and Retry-After', async () => {
        const l = device('limited');
        let limited: Answer | undefined;
        for (let i = 0; i < 3000 && !limited; i++) {
          const r = await l.call('GET', '/device/v1/updates/desired');
          if (r.status === 429) limited = r;
          else assert.equal(r.status, 200);
        }
        assert.ok(limited, 'the bucket (burst 500, 50/s) ran dry');
        assert.equal(limited.json.error.code, 'RATE_LIMITED');
        assert.ok(Number(limited.headers['retry-after']) >= 1);
        assert.notEqual(limited.headers.connection, 'close', 'a throttled device keeps its connection');
      });
    });

    describe('when a keep-alive connection loses its grounds', () => {
      it('authenticates once per TLS connection (one gateway.connect per connection)', async () => {
        const connects = async (): Promise<number> => (await audit({ action: 'gateway.connect', actor: `device:${idOf('other')}` })).length;
        const before = await connects();
        const o = new DeviceClient(port, { ...creds.other!, ca: rootPem });
        clients.set('other-2', o);
        const first = await o.call('GET', '/device/v1/updates/desired');
        for (let i = 0; i < 5; i++) assert.equal((await o.call('GET', '/device/v1/updates/desired')).socket, first.socket);
        await until(async () => (await connects()) === before + 1);
        await new Promise((r) => setTimeout(r, 200));
        assert.equal(await connects(), before + 1, 'six requests, one connection, one authentication');
        const last = (await audit({ action: 'gateway.connect', actor: `device:${idOf('other')}` })).at(-1)!;
        assert.equal(JSON.parse(last.details).transport, 'https');
      });

      it('cuts the connection within a second of a revocation; a new one is refused', async () => {
        const d = device('revoked');
        const r = await d.call('GET', '/device/v1/updates/desired');
        assert.equal(r.status, 200);
        const closed = new Promise<number>((resolve) => r.socket.once('close', () => resolve(Date.now())));
        const serial = (await p.services.certificates.currentForDevice(idOf('revoked'), 'ldevid'))!.serial;
        const t0 = Date.now();
        await p.services.revocation.revoke(serial, 'keyCompromise', 'test');
        assert.ok((await closed) - t0 < 1000, 'cut within a second');
        const again = await d.call('GET', '/device/v1/updates/desired');
        assert.notEqual(again.socket, r.socket);
        assert.deepEqual([again.status, again.json.error.code], [403, 'CERT_REVOKED']);
        await until(async () => (await audit({ action: 'gateway.disconnect', target: `device:${idOf('revoked')}` })).length === 1);
        assert.equal(JSON.parse((await audit({ action: 'gateway.disconnect', target: `device:${idOf('revoked')}` }))[0]!.details).reason, 'revoked');
      });

      it('cuts the connection within a second of a quarantine; a new one is refused', async () => {
        const d = device('quarantined');
        const r = await d.call('POST', '/device/v1/update-status', '{"v":1,"kind":"check"}');
        assert.equal(r.status, 200);
        const closed = new Promise<number>((resolve) => r.socket.once('close', () => resolve(Date.now())));
        const t0 = Date.now();
        await p.services.devices.transition(idOf('quarantined'), 'quarantined', 'test');
        assert.ok((await closed) - t0 < 1000, 'cut within a second');
        const again = await d.call('GET', '/device/v1/updates/desired');
        assert.deepEqual([again.status, again.json.error?.code], [403, 'DEVICE_QUARANTINED']);
        await until(async () => (await audit({ action: 'gateway.disconnect', target: `device:${idOf('quarantined')}` })).length === 1);
        // The activation a first connection starts in the background (enrolled -> active) must not
        // undo a quarantine that lands meanwhile (a CI run once saw the device active again).
        assert.equal((await p.services.devices.transition(idOf('quarantined'), 'active', 'device:x', { onlyFrom: 'enrolled' })).state, 'quarantined');
        assert.equal((await p.services.devices.get(idOf('quarantined'))).state, 'quarantined');
      });
    });

    it('documents the endpoints in the listener\'s OpenAPI description', async () => {
      const doc = await (await device('pumpA').call('GET', '/docs/json')).json;
      assert.ok(doc.paths['/device/v1/updates/desired']?.get);
      assert.ok(doc.paths['/device/v1/update-status']?.post?.requestBody);
    });
  });
}
