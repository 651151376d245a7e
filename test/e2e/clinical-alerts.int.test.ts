// Alerts end to end: a monitor enrolled over EST publishes vitals over MQTT (mTLS, device SDK) to
// the real platform; a rule with a duration raises one alert, which reaches the SSE stream and a
// webhook receiver (a real HTTP server on loopback that checks the HMAC signature), and a
// clinician acknowledges it over REST, which both channels see too.
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DeviceAgent, EstClient, newKeyAndCsr, OfflineQueue } from '../../packages/device/src/index.ts';
import { loadConfig, Platform } from '../../packages/server/src/index.ts';
import { createLogger } from '../../packages/server/src/logging/index.ts';

async function until(f: () => Promise<boolean> | boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

type AlertEvent = { change: string; alert: { id: string; state: string; priority: string; ruleId: string; deviceId: string } };

/** Checks `MedTrust-Signature: t=<s>,v1=<hex>` the way a receiver should: HMAC over "<t>.<body>", constant-time, fresh. */
function verifySignature(secret: string, header: string | undefined, body: string): boolean {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header ?? '');
  if (!m) return false;
  if (Math.abs(Date.now() / 1000 - Number(m[1])) > 300) return false;
  const want = createHmac('sha256', secret).update(`${m[1]}.${body}`).digest();
  return timingSafeEqual(want, Buffer.from(m[2]!, 'hex'));
}

describe('alerts: vitals over MQTT -> rule with duration -> SSE and signed webhook -> REST acknowledge', () => {
  let dir: string;
  let p: Platform;
  let http: string;
  let deviceId: string;
  let clinician: string;
  let agent: DeviceAgent;
  let receiver: Server;
  let secret = '';
  const hooks: Array<{ valid: boolean; body: { type: string; alert: AlertEvent['alert'] } }> = [];
  const streamed: AlertEvent[] = [];
  const sse = new AbortController();

  const api = async (method: string, path: string, body?: unknown, token = clinician): Promise<{ status: number; body: Record<string, unknown> }> => {
    const r = await fetch(`${http}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: r.status, body: await r.json().catch(() => ({})) as Record<string, unknown> };
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'medtrust-alerts-'));
    const env = { MEDTRUST_DATA_DIR: join(dir, 'data'), MEDTRUST_HTTP_PORT: '0', MEDTRUST_HTTPS_PORT: '0', MEDTRUST_MQTT_PORT: '0', MEDTRUST_MASTER_KEY: 'alerts-test-master-key-0123456789', MEDTRUST_LOG_LEVEL: 'silent' };
    p = await Platform.open({ config: loadConfig(env), logger: createLogger({ level: 'silent' }) });
    const listening = await p.start();
    http = listening.httpUrl;
    const s = p.services;
    await s.tenants.ensureOperator();
    const hospital = await s.tenants.create({ kind: 'customer', name: 'St Elsewhere' });
    deviceId = (await s.devices.create({ serial: 'MON-ALERT-1', model: 'monitor-x', hardwareRevision: 'A', tenantId: hospital }, 'test')).id;
    clinician = (await s.tokens.create({ tenantId: hospital, role: 'clinician', name: 'nurse', createdBy: 'test' })).token;
    const admin = (await s.tokens.create({ tenantId: hospital, role: 'hospital-admin', name: 'admin', createdBy: 'test' })).token;

    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const valid = verifySignature(secret, req.headers['medtrust-signature'] as string | undefined, body);
        hooks.push({ valid, body: JSON.parse(body) as { type: string; alert: AlertEvent['alert'] } });
        res.statusCode = valid ? 204 : 401;
        res.end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const hook = await api('POST', '/api/v1/webhooks', { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/medtrust` }, admin);
    assert.equal(hook.status, 201);
    secret = String(hook.body.secret);
    const rule = await api('POST', '/api/v1/alert-rules', { name: 'Desaturation', priority: 'high', condition: { kind: 'threshold', metric: 'spo2', op: '<', value: 90, forMs: 20_000, hysteresis: 2 } });
    assert.equal(rule.status, 201, JSON.stringify(rule.body));

    // The live stream, read as a dashboard would.
    const res = await fetch(`${http}/api/v1/alerts/stream`, { headers: { authorization: `Bearer ${clinician}` }, signal: sse.signal });
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    void (async () => {
      let buf = '';
      const reader = res.body!.getReader();
      for (let r = await reader.read(); !r.done; r = await reader.read()) {
        const chunk = r.value;
        buf += Buffer.from(chunk).toString('utf8');
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const frame = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const data = frame.split('\n').find((l) => l.startsWith('data: '));
          if (frame.includes('event: alert') && data) streamed.push(JSON.parse(data.slice(6)) as AlertEvent);
        }
      }
    })().catch(() => undefined);

    const rootPem = (await s.cas.get('root')).certificatePem;
    const enrol = await s.enrollTokens.create({ deviceId, createdBy: 'test' });
    const { keyPem, csrDer } = await newKeyAndCsr(deviceId);
    const certPem = await new EstClient({ baseUrl: listening.httpsUrl, caPem: rootPem }).simpleEnroll(csrDer, { kind: 'secret', username: enrol.username, password: enrol.password });
    agent = new DeviceAgent({ url: listening.mqttUrl!, credentials: { deviceId, certPem, keyPem, caPem: rootPem }, queue: new OfflineQueue({ file: join(dir, 'queue.jsonl') }), backoff: { baseMs: 100, maxMs: 500 } });
    agent.start();
    await until(() => agent.connected);
  });
  after(async () => {
    sse.abort();
    await agent?.stop();
    await p?.stop();
    await new Promise((r) => receiver?.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  const spo2 = (id: string, ts: number, value: number): object => ({ v: 1, id, ts, kind: 'vitals', vitals: { spo2: { value, unit: '%' } } });

  it('raises nothing for a breach shorter than the rule\'s duration, then one alert once it lasts, on both channels', async () => {
    const t0 = Date.now() - 60_000;
    // 10 s low, back to normal: shorter than 20 s, no alert.
    agent.publish('telemetry', spo2('a-0', t0, 86));
    agent.publish('telemetry', spo2('a-1', t0 + 10_000, 87));
    agent.publish('telemetry', spo2('a-2', t0 + 12_000, 97));
    await until(async () => (await p.services.db.selectFrom('telemetry_message').select('message_id').where('device_id', '=', deviceId).where('message_id', '=', 'a-2').executeTakeFirst()) !== undefined);
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual([streamed.length, hooks.length], [0, 0], 'a 10 s breach raises nothing under a 20 s rule');
    // Then low for 25 s, with readings every 5 s: exactly one alert.
    for (let i = 0; i < 6; i++) agent.publish('telemetry', spo2(`b-${i}`, t0 + 20_000 + i * 5_000, 85));
    await until(() => streamed.some((e) => e.change === 'raised') && hooks.some((h) => h.body.type === 'alert.raised'));
    await new Promise((r) => setTimeout(r, 500));
    const raised = streamed.filter((e) => e.change === 'raised');
    assert.equal(raised.length, 1, JSON.stringify(streamed));
    assert.equal(raised[0]!.alert.priority, 'high');
    assert.equal(raised[0]!.alert.deviceId, deviceId);
    const hooked = hooks.filter((h) => h.body.type === 'alert.raised');
    assert.equal(hooked.length, 1);
    assert.equal(hooked[0]!.valid, true, 'HMAC verifies');
    assert.equal(hooked[0]!.body.alert.id, raised[0]!.alert.id);
    const list = await api('GET', '/api/v1/alerts?state=raised');
    assert.deepEqual((list.body.alerts as Array<{ id: string }>).map((a) => a.id), [raised[0]!.alert.id]);
  });

  it('a clinician acknowledges it over REST; the stream and the webhook hear it, and a second acknowledge is refused', async () => {
    const id = streamed.find((e) => e.change === 'raised')!.alert.id;
    const ack = await api('POST', `/api/v1/alerts/${id}/acknowledge`);
    assert.equal(ack.status, 200, JSON.stringify(ack.body));
    assert.equal(ack.body.state, 'acknowledged');
    await until(() => streamed.some((e) => e.change === 'acknowledged' && e.alert.id === id) && hooks.some((h) => h.body.type === 'alert.acknowledged'));
    assert.ok(hooks.every((h) => h.valid));
    const again = await api('POST', `/api/v1/alerts/${id}/acknowledge`);
    assert.equal((again.body.error as { code: string }).code, 'ALERT_STATE_INVALID');
  });

  it('a receiver that rejects a bad signature is shown to: a delivery signed with another secret does not verify', () => {
    const body = JSON.stringify(hooks[0]!.body);
    const t = Math.floor(Date.now() / 1000);
    const forged = `t=${t},v1=${createHmac('sha256', 'not-the-secret').update(`${t}.${body}`).digest('hex')}`;
    assert.equal(verifySignature(secret, forged, body), false);
    assert.equal(verifySignature(secret, `t=${t - 3600},v1=${createHmac('sha256', secret).update(`${t - 3600}.${body}`).digest('hex')}`, body), false, 'stale timestamp');
  });
});
