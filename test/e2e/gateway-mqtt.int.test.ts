// The embedded broker against real counterparts: mosquitto_pub / mosquitto_sub with certificates
// made by the openssl CLI, on both database dialects.
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { DbAuditLog } from '../../packages/server/src/audit/index.ts';
import { migrateToLatest } from '../../packages/server/src/db/index.ts';
import { createTestDatabase, TEST_DIALECTS, type TestDatabase } from '../../packages/server/src/db/testing.ts';
import { DbEventBus } from '../../packages/server/src/events/index.ts';
import { DeviceGateway } from '../../packages/server/src/gateway/index.ts';
import { AdmissionGate } from '../../packages/server/src/gateway/testing/admission-gate.ts';
import { createOpensslTestPki, type OpensslTestPki, type TestDeviceCert } from '../../packages/server/src/gateway/testing/openssl-test-pki.ts';
import { TableCertificateStore, TableDeviceDirectory } from '../../packages/server/src/gateway/testing/table-identity.ts';
import { createLogger } from '../../packages/server/src/logging/index.ts';
import { allMigrations } from '../../packages/server/src/migrations.ts';

interface Run { code: number | null; stdout: string; stderr: string }
function run(cmd: string, args: string[], timeoutMs = 10_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs }, (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }));
  });
}

const vitals = (id: string, hr = 72): string => JSON.stringify({ v: 1, id, ts: Date.now() - 1000, kind: 'vitals', vitals: { heartRate: { value: hr, unit: '/min' } } });

for (const dialect of TEST_DIALECTS) {
  describe(`embedded MQTT gateway (${dialect})`, () => {
    let t: TestDatabase;
    let pki: OpensslTestPki;
    let gw: DeviceGateway;
    let events: DbEventBus;
    let port: number;
    let devA: TestDeviceCert;
    let devB: TestDeviceCert;
    const results: string[] = [];
    const admission = new AdmissionGate();
    const tls = (d: TestDeviceCert, clientId = d.deviceId): string[] => ['-h', '127.0.0.1', '-p', String(port), '--cafile', pki.caBundleFile, '--cert', d.certFile, '--key', d.keyFile, '-i', clientId, '-V', 'mqttv311'];
    const pub = (d: TestDeviceCert, topic: string, msg: string, clientId?: string): Promise<Run> => run('mosquitto_pub', [...tls(d, clientId), '-q', '1', '-t', topic, '-m', msg]);
    const countStored = async (deviceId: string): Promise<number> => (await t.db.selectFrom('telemetry_message').select('seq').where('device_id', '=', deviceId).execute()).length;
    const audits = async (action: string): Promise<Array<{ outcome: string; details: string }>> => t.db.selectFrom('audit_entry').select(['outcome', 'details']).where('action', '=', action).execute();

    before(async () => {
      t = await createTestDatabase(dialect);
      await migrateToLatest(t.db, dialect, allMigrations);
      pki = await createOpensslTestPki(t.db);
      devA = await pki.enrolDevice({ deviceId: 'dev_a', tenantId: 'ten_h1' });
      devB = await pki.enrolDevice({ deviceId: 'dev_b', tenantId: 'ten_h1', state: 'active' });
      events = new DbEventBus({ db: t.db, pollMs: 200 });
      await events.start();
      const audit = new DbAuditLog({ db: t.db, dialect });
      gw = await DeviceGateway.start({
        db: t.db, audit, events, logger: createLogger({ level: 'silent' }), metrics: new Registry(), node: events.origin,
        certificates: new TableCertificateStore(t.db), devices: new TableDeviceDirectory(t.db),
        mqtt: { bindHost: '127.0.0.1', port: 0, tls: { key: pki.server.keyPem, cert: pki.server.chainPem, clientCas: [pki.operationalPem, pki.rootPem] }, controlRateLimit: { ratePerS: 0.5, burst: 3 } },
        onCommandResult: async (session) => {
          results.push(session.deviceId);
        },
        admission,
      });
      port = gw.broker!.port;
    });
    after(async () => {
      await gw.stop();
      events.stop();
      pki.close();
      await t.close();
    });

    it('stores a QoS 1 message from mosquitto_pub, activates the device and records the connection', async () => {
      const r = await pub(devA, 'devices/dev_a/telemetry', vitals('a-1'));
      assert.equal(r.code, 0, r.stderr);
      // PUBACK came after the commit: the row is there the moment mosquitto_pub returns.
      assert.equal(await countStored('dev_a'), 1);
      const dev = await t.db.selectFrom('device').select('state').where('id', '=', 'dev_a').executeTakeFirstOrThrow();
      assert.equal(dev.state, 'active');
      const hist = await gw.presence.history('dev_a');
      assert.ok(hist.length >= 1);
      assert.equal(hist[0]?.certSerial, devA.serial);
    });

    it('stores a repeated message id once', async () => {
      assert.equal((await pub(devA, 'devices/dev_a/telemetry', vitals('dup-1', 80))).code, 0);
      assert.equal((await pub(devA, 'devices/dev_a/telemetry', vitals('dup-1', 81))).code, 0);
      const rows = await t.db.selectFrom('telemetry_message').select('payload').where('device_id', '=', 'dev_a').where('message_id', '=', 'dup-1').execute();
      assert.equal(rows.length, 1);
      assert.match(rows[0]!.payload, /"value":80/);
    });

    it('answers malformed and impossible messages on devices/{id}/errors and keeps serving', async () => {
      const sub = spawn('mosquitto_sub', [...tls(devB, 'dev_b-sub'), '-t', 'devices/dev_b/errors', '-q', '1', '-C', '2', '-W', '10']);
      let out = '';
      sub.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((r) => sub.on('close', r));
      await new Promise((r) => setTimeout(r, 500));
      // Refused messages are acknowledged (the device must not resend them forever).
      assert.equal((await pub(devB, 'devices/dev_b/telemetry', '{not json')).code, 0);
      assert.equal((await pub(devB, 'devices/dev_b/telemetry', vitals('b-bad', 900))).code, 0);
      assert.equal(await exited, 0);
      const lines = out.trim().split('\n').map((l) => JSON.parse(l) as { code: string; messageId: string | null });
      assert.deepEqual(lines.map((l) => l.code), ['MESSAGE_MALFORMED', 'VALUE_OUT_OF_RANGE']);
      assert.equal(lines[1]?.messageId, 'b-bad');
      assert.equal(await countStored('dev_b'), 0);
      assert.equal((await pub(devB, 'devices/dev_b/telemetry', vitals('b-ok'))).code, 0);
      assert.equal(await countStored('dev_b'), 1);
    });

    it('refuses another device\'s topics, audits it, and closes a publisher', async () => {
      const r = await pub(devA, 'devices/dev_b/telemetry', vitals('spoof-1'));
      assert.match(r.stderr, /connection was lost/);
      const s = await run('mosquitto_sub', [...tls(devA), '-t', 'devices/dev_b/commands/#', '-C', '1', '-W', '3']);
      assert.match(s.stderr, /subscription requests were denied/);
      const s2 = await run('mosquitto_sub', [...tls(devA), '-t', 'devices/+/commands/#', '-C', '1', '-W', '3']);
      assert.match(s2.stderr, /subscription requests were denied/);
      const denied = (await audits('gateway.publish')).concat(await audits('gateway.subscribe')).filter((a) => a.outcome === 'denied');
      assert.equal(denied.length, 3);
      assert.ok(denied.every((a) => JSON.parse(a.details).code === 'TOPIC_FORBIDDEN'));
      assert.equal((await t.db.selectFrom('telemetry_message').select('seq').where('message_id', '=', 'spoof-1').execute()).length, 0);
    });

    it('refuses certificates that are not a current LDevID of ours, and a borrowed client id', async () => {
      const before = (await audits('gateway.connect')).filter((a) => a.outcome === 'denied').length;
      const lookalike = pki.issueUnstored('dev_a');
      assert.notEqual((await pub(lookalike, 'devices/dev_a/telemetry', vitals('x-1'))).code, 0);
      // An IDevID does not chain to the Operational CA: refused in the TLS handshake itself.
      const tlsBefore = (await gw.metrics.authFailures.get()).values.find((v) => v.labels.code === 'TLS_HANDSHAKE')?.value ?? 0;
      const idevid = await pki.enrolDevice({ deviceId: 'dev_m', tenantId: 'ten_h1', ca: 'manufacturing', profile: 'idevid' });
      assert.notEqual((await pub(idevid, 'devices/dev_m/telemetry', vitals('x-2'))).code, 0);
      const tlsAfter = (await gw.metrics.authFailures.get()).values.find((v) => v.labels.code === 'TLS_HANDSHAKE')?.value ?? 0;
      assert.equal(tlsAfter, tlsBefore + 1);
      assert.notEqual((await pub(devA, 'devices/dev_a/telemetry', vitals('x-3'), 'dev_b')).code, 0);
      const denied = (await audits('gateway.connect')).filter((a) => a.outcome === 'denied').map((a) => (JSON.parse(a.details) as { code: string }).code);
      assert.deepEqual(denied.slice(before), ['CERT_UNTRUSTED', 'CLIENT_ID_MISMATCH']);
    });

    it('refuses a revoked certificate and cuts a live connection within a second of the revocation event', async () => {
      const devR = await pki.enrolDevice({ deviceId: 'dev_r', tenantId: 'ten_h1', state: 'active' });
      const sub = spawn('mosquitto_sub', [...tls(devR), '-t', 'devices/dev_r/commands/#', '-q', '1']);
      const exited = new Promise<number>((r) => sub.on('exit', () => r(Date.now())));
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(sub.exitCode, null, 'subscriber connected');
      await t.db.updateTable('certificate').set({ status: 'revoked', revoked_at: Date.now(), revocation_reason: 1 }).where('serial', '=', devR.serial).execute();
      // Published by another bus instance, as the revocation service in another process would.
      const other = new DbEventBus({ db: t.db });
      const revokedAt = Date.now();
      await other.publish({ kind: 'certificate.revoked', serial: devR.serial, caName: 'operational', deviceId: 'dev_r', reason: 1 });
      const gone = await Promise.race([exited, new Promise<number>((r) => setTimeout(() => r(-1), 3000))]);
      if (gone === -1) sub.kill();
      assert.ok(gone !== -1 && gone - revokedAt < 1000, `cut after ${gone - revokedAt} ms`);
      assert.notEqual((await pub(devR, 'devices/dev_r/telemetry', vitals('r-1'))).code, 0);
      const codes = (await audits('gateway.connect')).filter((a) => a.outcome === 'denied').map((a) => (JSON.parse(a.details) as { code: string }).code);
      assert.equal(codes.at(-1), 'CERT_REVOKED');
      const hist = await gw.presence.history('dev_r');
      assert.equal(hist.at(-1)?.endReason, 'revoked');
    });

    it('limits command results per device: over the limit, refused with RATE_LIMITED and not acknowledged', async () => {
      const devR = await pki.enrolDevice({ deviceId: 'dev_r', tenantId: 'ten_h1', state: 'active' });
      const sub = spawn('mosquitto_sub', [...tls(devR, 'dev_r-sub'), '-t', 'devices/dev_r/errors', '-q', '1', '-C', '1', '-W', '10']);
      let out = '';
      sub.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((r) => sub.on('close', r));
      await new Promise((r) => setTimeout(r, 500));
      const result = (n: number): string => JSON.stringify({ v: 1, commandId: `cmd_${n}`, result: 'accepted', at: Date.now() });
      for (let i = 0; i < 3; i++) assert.equal((await pub(devR, 'devices/dev_r/command-results', result(i))).code, 0);
      assert.deepEqual(results.filter((d) => d === 'dev_r').length, 3);
      // The fourth within the burst window: no PUBACK (the connection closes), nothing handed on.
      const fourth = await pub(devR, 'devices/dev_r/command-results', result(3));
      assert.notEqual(fourth.code, 0);
      assert.equal(await exited, 0);
      assert.equal((JSON.parse(out.trim()) as { code: string }).code, 'RATE_LIMITED');
      assert.deepEqual(results.filter((d) => d === 'dev_r').length, 3);
      // Other devices and telemetry are unaffected.
      assert.equal((await pub(devB, 'devices/dev_b/telemetry', vitals('b-after-flood'))).code, 0);
    });

    it('cuts a quarantined device and refuses it afterwards', async () => {
      const devQ = await pki.enrolDevice({ deviceId: 'dev_q', tenantId: 'ten_h1', state: 'active' });
      const sub = spawn('mosquitto_sub', [...tls(devQ), '-t', 'devices/dev_q/updates/#']);
      const exited = new Promise<void>((r) => sub.on('exit', () => r()));
      await new Promise((r) => setTimeout(r, 500));
      await t.db.updateTable('device').set({ state: 'quarantined' }).where('id', '=', 'dev_q').execute();
      await new DbEventBus({ db: t.db }).publish({ kind: 'device.state-changed', deviceId: 'dev_q', from: 'active', to: 'quarantined' });
      const ok = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 2000))]);
      if (!ok) sub.kill();
      assert.ok(ok);
      assert.notEqual((await pub(devQ, 'devices/dev_q/telemetry', vitals('q-1'))).code, 0);
      const codes = (await audits('gateway.connect')).filter((a) => a.outcome === 'denied').map((a) => (JSON.parse(a.details) as { code: string }).code);
      assert.equal(codes.at(-1), 'DEVICE_QUARANTINED');
    });

    it('closes a connection whose device was quarantined while it was being admitted', async () => {
      const devW = await pki.enrolDevice({ deviceId: 'dev_w', tenantId: 'ten_h1', state: 'active' });
      const held = admission.hold('dev_w');
      const sub = spawn('mosquitto_sub', [...tls(devW), '-t', 'devices/dev_w/updates/#']);
      const exited = new Promise<void>((r) => sub.on('exit', () => r()));
      try {
        // Its state was read (active); the quarantine lands and its cut finds no connection yet.
        await held.entered;
        await t.db.updateTable('device').set({ state: 'quarantined' }).where('id', '=', 'dev_w').execute();
        await new DbEventBus({ db: t.db }).publish({ kind: 'device.state-changed', deviceId: 'dev_w', from: 'active', to: 'quarantined' });
        await new Promise((r) => setTimeout(r, 700));
        held.release();
        const closed = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 3000))]);
        assert.ok(closed, 'the connection is closed once registered, not kept');
        // The re-check's refusal names the certificate (a reconnect mosquitto_sub may try is refused at CONNECT).
        const denied = (await audits('gateway.connect')).filter((a) => a.outcome === 'denied').map((a) => JSON.parse(a.details) as { code: string; certSerial?: string });
        assert.ok(denied.some((d) => d.certSerial === devW.serial && d.code === 'DEVICE_QUARANTINED'), JSON.stringify(denied));
      } finally {
        held.release();
        sub.kill();
      }
    });
  });
}
