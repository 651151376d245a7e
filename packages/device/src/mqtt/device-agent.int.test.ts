// The device's one MQTT connection against aedes (the broker the platform embeds) over plain TCP,
// where the test can see every client id and count live connections: telemetry, signed commands
// and their results, desired state and update status all share the connection whose client id
// is the device id; a command sent while the device was away arrives after the reconnect
// (persistent session) and a stale one is refused; reports made offline go out in order.
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type CommandEnvelope, commandKeyId, signCommand } from '@medtrust/core';
import { Aedes } from 'aedes';
import { CommandAgent, type CommandResult } from '../commands/index.ts';
import { OfflineQueue } from '../queue/offline-queue.ts';
import { type DesiredStateMessage, UpdateChannel, UpdateClient } from '../update/index.ts';
import { DeviceAgent } from './device-agent.ts';

async function until(f: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Seen { readonly topic: string; readonly body: Record<string, unknown> }

/**
 * aedes on a free port; records client ids, live connections and what devices publish. Like the
 * platform, it acknowledges a report only after "recording" it (here: 20 ms), and counts how many
 * reports on one topic it handles at once.
 */
async function startBroker(o: { refuse?: (topic: string) => boolean } = {}) {
  const handling = new Map<string, number>();
  let maxConcurrentReports = 0;
  const aedes = await Aedes.createBroker({
    authorizeSubscribe: (_client, sub, done) => done(null, o.refuse?.(sub.topic) ? null : sub),
    authorizePublish: (client, packet, done) => {
      if (!client || packet.topic.endsWith('/telemetry')) return done(null);
      const n = (handling.get(packet.topic) ?? 0) + 1;
      handling.set(packet.topic, n);
      maxConcurrentReports = Math.max(maxConcurrentReports, n);
      setTimeout(() => {
        handling.set(packet.topic, (handling.get(packet.topic) ?? 1) - 1);
        done(null);
      }, 20);
    },
  });
  const clientIds: string[] = [];
  const seen: Seen[] = [];
  let live = 0;
  aedes.on('clientReady', (c) => {
    clientIds.push(c.id);
    live++;
  });
  aedes.on('clientDisconnect', () => void live--);
  aedes.on('publish', (packet, client) => {
    if (client) seen.push({ topic: packet.topic, body: JSON.parse(packet.payload.toString()) as Record<string, unknown> });
  });
  const server: Server = createServer((socket) => aedes.handle(socket));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`,
    clientIds,
    seen,
    live: () => live,
    maxConcurrentReports: () => maxConcurrentReports,
    /** The platform publishing to a device topic at QoS 1. */
    send: (topic: string, body: unknown) => new Promise<void>((resolve, reject) => aedes.publish({ cmd: 'publish', topic, payload: Buffer.from(JSON.stringify(body)), qos: 1, retain: false, dup: false }, (e) => (e ? reject(e) : resolve()))),
    close: async () => {
      await new Promise<void>((r) => aedes.close(() => r()));
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
type TestBroker = Awaited<ReturnType<typeof startBroker>>;

const platformKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signed = (deviceId: string, over: Partial<CommandEnvelope> = {}) => signCommand(
  { v: 1, id: `cmd_${randomBytes(4).toString('hex')}`, deviceId, kind: 'infusion.stop', params: {}, nonce: randomBytes(16).toString('base64url'), issuedAtMs: Date.now(), expiresAtMs: Date.now() + 60_000, ...over },
  { alg: 'ES256', keyId: commandKeyId(platformKey.publicKey), sign: (d) => sign('sha256', d, platformKey.privateKey) },
);

describe('DeviceAgent: one MQTT connection per device', () => {
  let dir: string;
  const stops: Array<() => Promise<void> | void> = [];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'medtrust-agent-'));
  });
  after(async () => {
    for (const s of stops.reverse()) await s();
    rmSync(dir, { recursive: true, force: true });
  });

  const device = (b: TestBroker, deviceId: string, o: { handler?: (c: CommandEnvelope) => Promise<void> } = {}) => {
    const queue = new OfflineQueue({ file: join(dir, `${deviceId}.jsonl`), fsync: false });
    const agent = new DeviceAgent({ url: b.url, credentials: { deviceId, certPem: '', keyPem: '', caPem: '' }, queue, persistentSession: true, backoff: { baseMs: 50, maxMs: 200 } });
    const executed: string[] = [];
    const results: CommandResult[] = [];
    const desired: DesiredStateMessage[] = [];
    const commands = new CommandAgent({ agent, publicKey: platformKey.publicKey, handler: o.handler ?? (async (c) => void executed.push(c.id)) });
    commands.on('result', (r) => results.push(r));
    const client = new UpdateClient({
      deviceId, model: 'pump-x', hardwareRevision: 'A', metadataBaseUrl: 'http://127.0.0.1:9/tuf/metadata', targetBaseUrl: 'http://127.0.0.1:9/tuf/targets',
      trustedRoot: Buffer.from('{}'), dataDir: join(dir, `${deviceId}-update`), factory: { version: '1.0.0', releaseId: null, target: null, sha256: null }, healthCheck: async () => true,
    });
    const updates = new UpdateChannel({ agent, client, recheckMs: 60_000 });
    updates.on('desired', (d) => desired.push(d));
    stops.push(async () => {
      updates.stop();
      await agent.stop();
      queue.close();
    });
    return { agent, queue, commands, updates, executed, results, desired };
  };
  const from = (b: TestBroker, deviceId: string, suffix: string) => b.seen.filter((s) => s.topic === `devices/${deviceId}/${suffix}`).map((s) => s.body);

  describe('when commands, updates and telemetry run on one device', () => {
    let b: TestBroker;
    let d: ReturnType<typeof device>;
    before(async () => {
      b = await startBroker();
      stops.push(() => b.close());
      d = device(b, 'dev_one');
      // Components first, then the connection: commands waiting in the session find their handler.
      const ready = Promise.all([d.commands.start(), d.updates.start()]);
      d.agent.start();
      await ready;
    });

    it('connects once, as the device id, and carries telemetry, commands, results, desired state and status', async () => {
      // The desired-state check goes out once the subscription is granted; the answer arrives on the same connection.
      await until(() => from(b, 'dev_one', 'update-status').some((s) => s.kind === 'check'));
      await b.send('devices/dev_one/updates/desired', { v: 1, kind: 'none' });
      await until(() => d.desired.length === 1);
      d.agent.publish('telemetry', { v: 1, id: 'r-1', ts: Date.now(), kind: 'health', health: { batteryPct: 90 } });
      const cmd = signed('dev_one');
      await b.send('devices/dev_one/commands', cmd);
      await until(() => from(b, 'dev_one', 'command-results').length === 2);
      assert.equal(d.executed.length, 1);
      assert.deepEqual(from(b, 'dev_one', 'command-results').map((r) => r.result), ['accepted', 'executed']);
      // One report per topic in flight: `executed` cannot overtake `accepted` at the platform.
      assert.equal(b.maxConcurrentReports(), 1);
      assert.deepEqual(from(b, 'dev_one', 'telemetry').map((t) => t.id), ['r-1']);
      assert.equal(d.queue.size, 0, 'every report acknowledged');
      assert.deepEqual(b.clientIds, ['dev_one']);
      assert.equal(b.live(), 1);
    });

    it('delivers a command sent while the device was away after it reconnects, and refuses one that went stale', async () => {
      await d.agent.stop();
      await until(() => b.live() === 0);
      const fresh = signed('dev_one');
      const stale = signed('dev_one', { issuedAtMs: Date.now() - 600_000, expiresAtMs: Date.now() - 300_000 });
      // The persistent session holds both at the broker.
      await b.send('devices/dev_one/commands', fresh);
      await b.send('devices/dev_one/commands', stale);
      const before = d.results.length;
      d.agent.start();
      await until(() => d.results.length >= before + 3);
      assert.equal(d.executed.length, 2);
      const after = d.results.slice(before);
      assert.deepEqual(after.filter((r) => r.result === 'executed').length, 1);
      assert.deepEqual(after.filter((r) => r.result === 'refused').map((r) => r.code), ['COMMAND_EXPIRED']);
      assert.deepEqual(b.clientIds, ['dev_one', 'dev_one']);
      await until(() => d.queue.size === 0);
      assert.equal(b.live(), 1);
    });

    it('keeps one connection, same client id and session, across a credential rotation', async () => {
      await d.agent.rotate({ deviceId: 'dev_one', certPem: '', keyPem: '', caPem: 'renewed' });
      await until(() => b.clientIds.length === 3 && d.agent.connected);
      await b.send('devices/dev_one/commands', signed('dev_one'));
      await until(() => d.executed.length === 3);
      assert.deepEqual(b.clientIds, ['dev_one', 'dev_one', 'dev_one']);
      assert.equal(b.live(), 1);
    });
  });

  describe('when reports are made while offline', () => {
    it('sends a command result and update status produced offline after the reconnect, in order, and no stale checks', async () => {
      const b = await startBroker();
      stops.push(() => b.close());
      let release!: () => void;
      const running = new Promise<void>((r) => (release = r));
      const d = device(b, 'dev_slow', { handler: () => running });
      const ready = Promise.all([d.commands.start(), d.updates.start()]);
      d.agent.start();
      await ready;
      await until(() => from(b, 'dev_slow', 'update-status').length === 1);
      const cmd = signed('dev_slow');
      await b.send('devices/dev_slow/commands', cmd);
      await until(() => from(b, 'dev_slow', 'command-results').length === 1);
      // The network goes while the pump runs the command; it finishes offline.
      await d.agent.stop();
      release();
      await until(() => d.results.length === 2);
      d.agent.publish('update-status', { v: 1, campaignId: 'cmp_1', kind: 'installed', version: '2.0.0' });
      d.updates.check();
      assert.deepEqual(d.queue.pending().map((m) => m.topic), ['devices/dev_slow/command-results', 'devices/dev_slow/update-status'], 'the check is not queued');
      const mark = b.seen.length;
      d.agent.start();
      await until(() => d.queue.size === 0 && b.seen.slice(mark).some((s) => s.body.kind === 'check'));
      await new Promise((r) => setTimeout(r, 100));
      const afterReconnect = b.seen.slice(mark).map((s) => `${s.topic.split('/')[2]}:${String(s.body.result ?? s.body.kind)}`);
      assert.deepEqual(afterReconnect, ['command-results:executed', 'update-status:installed', 'update-status:check']);
      assert.deepEqual(b.clientIds, ['dev_slow', 'dev_slow']);
    });
  });

  describe('when the broker refuses a subscription', () => {
    it('rejects with MQTT_SUBSCRIPTION_REFUSED, emits subscriptionRefused on every connect, and keeps the rest working', async () => {
      const b = await startBroker({ refuse: (topic) => topic.endsWith('/updates/desired') });
      stops.push(() => b.close());
      const d = device(b, 'dev_acl');
      const refusals: string[] = [];
      d.agent.on('subscriptionRefused', (s) => refusals.push(s));
      const commands = d.commands.start();
      const updates = d.updates.start();
      d.agent.start();
      await commands;
      await assert.rejects(updates, { code: 'MQTT_SUBSCRIPTION_REFUSED' });
      assert.deepEqual(refusals, ['updates/desired']);
      await b.send('devices/dev_acl/commands', signed('dev_acl'));
      await until(() => d.executed.length === 1);
      assert.equal(from(b, 'dev_acl', 'update-status').length, 0, 'no check without the subscription');
      await d.agent.rotate({ deviceId: 'dev_acl', certPem: '', keyPem: '', caPem: '' });
      await until(() => refusals.length === 2);
    });
  });

  describe('when it is misused', () => {
    it('refuses commands on an agent without a persistent session, and a second handler for a topic', () => {
      const queue = new OfflineQueue({ file: join(dir, 'misuse.jsonl'), fsync: false });
      stops.push(() => queue.close());
      const credentials = { deviceId: 'dev_m', certPem: '', keyPem: '', caPem: '' };
      const clean = new DeviceAgent({ url: 'mqtt://127.0.0.1:9', credentials, queue });
      assert.throws(() => new CommandAgent({ agent: clean, publicKey: platformKey.publicKey, handler: async () => undefined }), { code: 'MQTT_SESSION_NOT_PERSISTENT' });
      const agent = new DeviceAgent({ url: 'mqtt://127.0.0.1:9', credentials, queue, persistentSession: true });
      void agent.subscribe('commands', () => undefined);
      assert.throws(() => void agent.subscribe('commands', () => undefined), { code: 'MQTT_TOPIC_IN_USE' });
      agent.unsubscribe('commands');
      void agent.subscribe('commands', () => undefined);
    });
  });
});
