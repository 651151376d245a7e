// Safe commands end to end: the real platform (`Platform.start`: REST, EST, embedded MQTT broker
// with mTLS) and the device SDK's CommandAgent with an LDevID from EST, on the device's one MQTT
// connection (DeviceAgent, persistent session). A clinician's command is signed, delivered,
// verified, executed and acknowledged; a replayed, expired, tampered, forged and out-of-limit
// command is refused by the device, and the refusal shows on the platform. The same connection
// carries telemetry and the desired-state check; a command sent while the device was offline and
// a result produced offline arrive after the reconnect.
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type CommandEnvelope, commandKeyId, type SignedCommand, signCommand } from '@medtrust/core';
import { CommandAgent, type CommandResult, commandPublicKey, DeviceAgent, EstClient, newKeyAndCsr, OfflineQueue } from '../../packages/device/src/index.ts';
import { type DesiredStateMessage, UpdateChannel, UpdateClient } from '../../packages/device/src/update/index.ts';
import { loadConfig, Platform } from '../../packages/server/src/index.ts';
import { createLogger } from '../../packages/server/src/logging/index.ts';

async function until(f: () => Promise<boolean> | boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('safe commands: platform -> MQTT (mTLS) -> device SDK -> acknowledgement', () => {
  let dir: string;
  let p: Platform;
  let http: string;
  let deviceId: string;
  let clinician: string;
  let device: DeviceAgent;
  let queue: OfflineQueue;
  let agent: CommandAgent;
  let clockOffsetMs = 0;
  /** A command with this volume waits for `finishSlow` before it completes. */
  let finishSlow: (() => void) | undefined;
  const executed: CommandEnvelope[] = [];
  const results: CommandResult[] = [];

  const api = async (method: string, path: string, body?: unknown, token = clinician): Promise<{ status: number; body: Record<string, unknown> }> => {
    const r = await fetch(`${http}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': typeof body === 'string' ? 'text/csv' : 'application/json' }) }, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
    return { status: r.status, body: await r.json().catch(() => ({})) as Record<string, unknown> };
  };
  const program = (dose: number) => api('POST', `/api/v1/devices/${deviceId}/commands`, { careArea: 'ICU', command: { kind: 'infusion.program', drug: 'Heparin', dose } });
  const status = async (id: string): Promise<string> => String((await api('GET', `/api/v1/commands/${id}`)).body.status);
  const signedOf = async (id: string): Promise<SignedCommand> => JSON.parse((await p.services.db.selectFrom('device_command').select('signed').where('id', '=', id).executeTakeFirstOrThrow()).signed!) as SignedCommand;
  const audited = async (action: string, commandId: string): Promise<Array<{ outcome: string; details: string }>> =>
    (await p.services.db.selectFrom('audit_entry').select(['outcome', 'details']).where('action', '=', action).execute()).filter((r) => String(r.details).includes(commandId));
  /** Sends a payload on the device's command topic through the platform's broker (an attacker with broker access). */
  const inject = async (signed: SignedCommand): Promise<CommandResult> => {
    const n = results.length;
    await p.services.clinical.sendToDevice(deviceId, 'commands', JSON.stringify(signed));
    await until(() => results.length > n);
    return results[n]!;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'medtrust-cmd-'));
    const env = { MEDTRUST_DATA_DIR: join(dir, 'data'), MEDTRUST_HTTP_PORT: '0', MEDTRUST_HTTPS_PORT: '0', MEDTRUST_MQTT_PORT: '0', MEDTRUST_MASTER_KEY: 'cmd-test-master-key-0123456789', MEDTRUST_LOG_LEVEL: 'silent' };
    p = await Platform.open({ config: loadConfig(env), logger: createLogger({ level: 'silent' }) });
    const listening = await p.start();
    http = listening.httpUrl;
    const s = p.services;
    await s.tenants.ensureOperator();
    const hospital = await s.tenants.create({ kind: 'customer', name: 'St Elsewhere' });
    deviceId = (await s.devices.create({ serial: 'PUMP-CMD-1', model: 'pump-x', hardwareRevision: 'A', tenantId: hospital }, 'test')).id;
    clinician = (await s.tokens.create({ tenantId: hospital, role: 'clinician', name: 'nurse', createdBy: 'test' })).token;
    const admin = (await s.tokens.create({ tenantId: hospital, role: 'hospital-admin', name: 'pharmacy', createdBy: 'test' })).token;
    const csv = readFileSync(new URL('../../packages/server/src/clinical/fixtures/icu-drug-library.csv', import.meta.url), 'utf8');
    assert.equal((await api('POST', '/api/v1/drug-library', csv, admin)).status, 201);

    // Provisioning: an LDevID over EST, and the command key pinned by its fingerprint.
    const rootPem = (await s.cas.get('root')).certificatePem;
    const secret = await s.enrollTokens.create({ deviceId, createdBy: 'test' });
    const { keyPem, csrDer } = await newKeyAndCsr(deviceId);
    const certPem = await new EstClient({ baseUrl: listening.httpsUrl, caPem: rootPem }).simpleEnroll(csrDer, { kind: 'secret', username: secret.username, password: secret.password });
    const pinnedKeyId = commandKeyId((await s.keyStore.load('command-signing').catch(() => s.keyStore.generate('command-signing', 'ec-p256'))).publicKey);
    const pem = await (await fetch(`${http}/pki/command-signing-key.pem`)).text();
    assert.throws(() => commandPublicKey(pem, '00'.repeat(32)), /pinned/);
    // The device's one connection; a persistent session keeps commands sent while it is away.
    queue = new OfflineQueue({ file: join(dir, 'device-queue.jsonl') });
    device = new DeviceAgent({ url: listening.mqttUrl!, credentials: { deviceId, certPem, keyPem, caPem: rootPem }, queue, persistentSession: true, backoff: { baseMs: 100, maxMs: 400 } });
    agent = new CommandAgent({
      agent: device, publicKey: commandPublicKey(pem, pinnedKeyId),
      nowMs: () => Date.now() + clockOffsetMs,
      handler: async (cmd) => {
        if (cmd.params.vtbiMl === 13) throw new Error('pump motor fault');
        if (cmd.params.vtbiMl === 14) await new Promise<void>((r) => (finishSlow = r));
        executed.push(cmd);
      },
    });
    agent.on('result', (r) => results.push(r));
    const subscribed = agent.start();
    device.start();
    await subscribed;
  });
  after(async () => {
    agent?.stop();
    await device?.stop();
    queue?.close();
    await p?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('an accepted command is verified, executed and acknowledged; the platform shows it executed and audited', async () => {
    const r = await program(1000);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const id = String(r.body.id);
    await until(async () => (await status(id)) === 'executed');
    assert.deepEqual(executed.map((c) => [c.id, c.params.dose, c.params.rateMlPerH]), [[id, 1000, 10]]);
    assert.deepEqual(results.filter((x) => x.commandId === id).map((x) => x.result), ['accepted', 'executed']);
    assert.equal((await audited('command.device-accepted', id)).length, 1);
    assert.equal((await audited('command.device-executed', id)).length, 1);
  });

  it('a replayed command is refused by the device, leaves the executed command alone and is audited', async () => {
    const [first] = executed;
    const res = await inject(await signedOf(first!.id));
    assert.deepEqual([res.commandId, res.result, res.code], [first!.id, 'refused', 'COMMAND_REPLAYED']);
    await until(async () => (await audited('command.device-refused', first!.id)).length === 1);
    const [row] = await audited('command.device-refused', first!.id);
    assert.equal(row!.outcome, 'denied');
    assert.match(row!.details, /COMMAND_REPLAYED/);
    assert.equal(await status(first!.id), 'executed');
    assert.equal(executed.length, 1);
  });

  it('a command that arrives expired (device clock past its expiry) is refused and the command shows rejected', async () => {
    clockOffsetMs = 5 * 60_000;
    try {
      const r = await program(900);
      assert.equal(r.status, 201);
      const id = String(r.body.id);
      await until(async () => (await status(id)) === 'rejected');
      assert.equal((await api('GET', `/api/v1/commands/${id}`)).body.ackDetail, 'COMMAND_EXPIRED');
      assert.equal(executed.length, 1);
    } finally {
      clockOffsetMs = 0;
    }
  });

  it('a tampered or forged command is refused as COMMAND_SIGNATURE_INVALID and never runs', async () => {
    const genuine = await signedOf(executed[0]!.id);
    const env = JSON.parse(Buffer.from(genuine.payload, 'base64url').toString()) as CommandEnvelope;
    const tampered = { ...genuine, payload: Buffer.from(JSON.stringify({ ...env, nonce: 'fresh-nonce-0123456789', params: { ...env.params, rateMlPerH: 100 } })).toString('base64url') };
    assert.equal((await inject(tampered)).code, 'COMMAND_SIGNATURE_INVALID');
    const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const forged = signCommand({ ...env, id: 'cmd_forged', nonce: 'forged-nonce-0123456789', issuedAtMs: Date.now(), expiresAtMs: Date.now() + 60_000 }, { alg: 'ES256', keyId: commandKeyId(attacker.publicKey), sign: (d) => sign('sha256', d, attacker.privateKey) });
    assert.equal((await inject(forged)).code, 'COMMAND_SIGNATURE_INVALID');
    assert.equal((await inject({ payload: 'not-base64-json', signature: '', alg: 'ES256', keyId: '' })).code, 'COMMAND_SIGNATURE_INVALID');
    assert.equal(executed.length, 1);
    await until(async () => (await audited('command.device-refused', 'cmd_forged')).length === 1);
  });

  it('a validly signed command beyond the hard limits it carries is refused by the device (defence in depth)', async () => {
    // As if the platform's checks had a bug: the platform key signs a dose above the carried hard max.
    const key = await p.services.keyStore.load('command-signing');
    const r = await program(800);
    const id = String(r.body.id);
    await until(async () => (await status(id)) === 'executed');
    const env = JSON.parse(Buffer.from((await signedOf(id)).payload, 'base64url').toString()) as CommandEnvelope;
    const bad = signCommand({ ...env, id: `${id}x`, nonce: 'over-limit-nonce-0123456789', params: { ...env.params, dose: 30_000 }, issuedAtMs: Date.now(), expiresAtMs: Date.now() + 60_000 }, { alg: 'ES256', keyId: commandKeyId(key.publicKey), sign: (d) => key.sign(d) });
    const res = await inject(bad);
    assert.deepEqual([res.result, res.code], ['refused', 'COMMAND_LIMIT_EXCEEDED']);
    assert.ok(!executed.some((c) => c.id === `${id}x`));
    await until(async () => (await audited('command.device-refused', `${id}x`)).length === 1);
  });

  it('a command the pump fails to run is reported failed', async () => {
    const r = await api('POST', `/api/v1/devices/${deviceId}/commands`, { careArea: 'ICU', command: { kind: 'infusion.program', drug: 'Heparin', dose: 700, vtbiMl: 13 } });
    const id = String(r.body.id);
    await until(async () => (await status(id)) === 'failed');
    assert.equal((await api('GET', `/api/v1/commands/${id}`)).body.ackDetail, 'COMMAND_HANDLER_FAILED');
  });
  describe('on the device\'s one connection', () => {
    const connections = async (): Promise<{ total: number; open: number }> => {
      const rows = await p.services.db.selectFrom('device_connection').select('disconnected_at').where('device_id', '=', deviceId).where('transport', '=', 'mqtt').execute();
      return { total: rows.length, open: rows.filter((r) => r.disconnected_at === null).length };
    };

    it('carries telemetry, commands, their results and the desired-state check: the platform saw one MQTT connection', async () => {
      const refused: string[] = [];
      device.on('refused', (r) => refused.push(r.code));
      device.publish('telemetry', { v: 1, id: 'cmd-test-h-1', ts: Date.now(), kind: 'health', health: { batteryPct: 77, firmwareVersion: '1.0.0', uptimeS: 60, errorCodes: [] } });
      const root = Buffer.from(await (await fetch(`${http}/tuf/metadata/1.root.json`)).arrayBuffer());
      const client = new UpdateClient({
        deviceId, model: 'pump-x', hardwareRevision: 'A', trustedRoot: root, metadataBaseUrl: `${http}/tuf/metadata`, targetBaseUrl: `${http}/tuf/targets`,
        dataDir: join(dir, 'device-update'), factory: { version: '1.0.0', releaseId: null, target: null, sha256: null }, healthCheck: async () => true,
      });
      const updates = new UpdateChannel({ agent: device, client });
      try {
        const desired = new Promise<DesiredStateMessage>((r) => updates.once('desired', r));
        await updates.start();
        assert.deepEqual(await desired, { v: 1, kind: 'none' });
      } finally {
        updates.stop();
      }
      await until(() => queue.size === 0);
      assert.deepEqual(refused, []);
      const stored = await p.services.db.selectFrom('telemetry_message').select('message_id').where('device_id', '=', deviceId).execute();
      assert.deepEqual(stored.map((r) => r.message_id), ['cmd-test-h-1']);
      // Every command above, its results, the reading and the check: one connection, still open.
      assert.deepEqual(await connections(), { total: 1, open: 1 });
    });

    it('delivers a command sent while the device was offline once it reconnects (persistent session)', async () => {
      await device.stop();
      await until(async () => (await connections()).open === 0);
      const r = await program(600);
      assert.equal(r.status, 201, JSON.stringify(r.body));
      const id = String(r.body.id);
      await new Promise((res) => setTimeout(res, 300));
      assert.equal(await status(id), 'issued');
      device.start();
      await until(async () => (await status(id)) === 'executed');
      assert.ok(executed.some((c) => c.id === id));
      assert.deepEqual(await connections(), { total: 2, open: 1 });
    });

    it('reports a result the pump produced while offline after the reconnect', async () => {
      const r = await api('POST', `/api/v1/devices/${deviceId}/commands`, { careArea: 'ICU', command: { kind: 'infusion.program', drug: 'Heparin', dose: 650, vtbiMl: 14 } });
      const id = String(r.body.id);
      await until(async () => (await status(id)) === 'acknowledged' && finishSlow !== undefined);
      await device.stop();
      finishSlow!();
      await until(() => results.some((x) => x.commandId === id && x.result === 'executed'));
      assert.equal(queue.pending().filter((m) => m.topic.endsWith('/command-results')).length, 1, 'kept on disk while offline');
      assert.equal(await status(id), 'acknowledged');
      device.start();
      await until(async () => (await status(id)) === 'executed');
      assert.equal(queue.size, 0);
      assert.deepEqual(await connections(), { total: 3, open: 1 });
    });
  });
});
