// The device HTTPS API (POST /device/v1/messages) with curl and certificates from the openssl CLI.
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { DbAuditLog } from '../../packages/server/src/audit/index.ts';
import { migrateToLatest } from '../../packages/server/src/db/index.ts';
import { createTestDatabase, TEST_DIALECTS, type TestDatabase } from '../../packages/server/src/db/testing.ts';
import { LocalEventBus } from '../../packages/server/src/events/index.ts';
import { DeviceGateway, deviceHttpsRoutes } from '../../packages/server/src/gateway/index.ts';
import { AdmissionGate } from '../../packages/server/src/gateway/testing/admission-gate.ts';
import { createOpensslTestPki, type OpensslTestPki, type TestDeviceCert } from '../../packages/server/src/gateway/testing/openssl-test-pki.ts';
import { TableCertificateStore, TableDeviceDirectory } from '../../packages/server/src/gateway/testing/table-identity.ts';
import { buildHttpApp } from '../../packages/server/src/http/index.ts';
import { createLogger } from '../../packages/server/src/logging/index.ts';
import { allMigrations } from '../../packages/server/src/migrations.ts';

const vitals = (id: string, hr = 72, ts = Date.now() - 1000): Record<string, unknown> => ({ v: 1, id, ts, kind: 'vitals', vitals: { heartRate: { value: hr, unit: '/min' } } });

for (const dialect of TEST_DIALECTS) {
  describe(`device HTTPS API (${dialect})`, () => {
    let t: TestDatabase;
    let pki: OpensslTestPki;
    let gw: DeviceGateway;
    let app: FastifyInstance;
    let url: string;
    let dev: TestDeviceCert;
    let events: LocalEventBus;
    const admission = new AdmissionGate();

    const curl = (body: string, d?: TestDeviceCert): Promise<{ status: number; json: { error?: { code: string }; outcome?: string; results?: Array<{ id: string | null; outcome: string; error?: { code: string } }> } }> => new Promise((resolve, reject) => {
      const args = ['-sS', '--cacert', pki.caBundleFile, '-H', 'content-type: application/json', '--data-binary', body, '-w', '\n%{http_code}', `${url}/device/v1/messages`];
      if (d) args.push('--cert', d.certFile, '--key', d.keyFile);
      execFile('curl', args, (err, stdout) => {
        if (err) return reject(new Error(err.message));
        const i = stdout.lastIndexOf('\n');
        resolve({ status: Number(stdout.slice(i + 1)), json: JSON.parse(stdout.slice(0, i)) });
      });
    });

    before(async () => {
      t = await createTestDatabase(dialect);
      await migrateToLatest(t.db, dialect, allMigrations);
      pki = await createOpensslTestPki(t.db);
      dev = await pki.enrolDevice({ deviceId: 'dev_h', tenantId: 'ten_h1', state: 'active' });
      const audit = new DbAuditLog({ db: t.db, dialect });
      const metrics = new Registry();
      const logger = createLogger({ level: 'silent' });
      events = new LocalEventBus();
      gw = await DeviceGateway.start({ db: t.db, audit, events, logger, metrics, node: 'n1', certificates: new TableCertificateStore(t.db), devices: new TableDeviceDirectory(t.db), mqtt: undefined, admission });
      // As the :8443 listener does: client certificates requested, checked by the route.
      app = await buildHttpApp({
        logger, metrics, version: 'test', ready: async () => true,
        routes: [deviceHttpsRoutes({ sessions: gw.https, ingest: gw.ingest, buckets: gw.buckets })],
        https: { key: pki.server.keyPem, cert: pki.server.chainPem, ca: [pki.operationalPem, pki.rootPem], requestCert: true, rejectUnauthorized: false },
      });
      await app.listen({ host: '127.0.0.1', port: 0 });
      url = `https://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    });
    after(async () => {
      await app.close();
      await gw.stop();
      pki.close();
      await t.close();
    });

    it('stores a message posted with the LDevID and answers 202 after the commit; a repeat is a duplicate', async () => {
      const r = await curl(JSON.stringify(vitals('h-1')), dev);
      assert.equal(r.status, 202);
      assert.equal(r.json.outcome, 'stored');
      assert.equal((await t.db.selectFrom('telemetry_message').select('transport').where('message_id', '=', 'h-1').executeTakeFirstOrThrow()).transport, 'https');
      assert.equal((await curl(JSON.stringify(vitals('h-1')), dev)).json.outcome, 'duplicate');
    });

    it('refuses a device quarantined while its connection was being authenticated, and stores nothing', async () => {
      const devW = await pki.enrolDevice({ deviceId: 'dev_hw', tenantId: 'ten_h1', state: 'active' });
      const held = admission.hold('dev_hw');
      try {
        const posted = curl(JSON.stringify(vitals('hw-1')), devW);
        // Its state was read (active); the quarantine lands and its cut finds no connection yet.
        await held.entered;
        await t.db.updateTable('device').set({ state: 'quarantined' }).where('id', '=', 'dev_hw').execute();
        await events.publish({ kind: 'device.state-changed', deviceId: 'dev_hw', from: 'active', to: 'quarantined' });
        held.release();
        const r = await posted;
        assert.deepEqual([r.status, r.json.error?.code], [403, 'DEVICE_QUARANTINED']);
        assert.equal((await t.db.selectFrom('telemetry_message').select('seq').where('device_id', '=', 'dev_hw').execute()).length, 0);
      } finally {
        held.release();
      }
    });

    it('takes a batch in order with per-message results', async () => {
      const r = await curl(JSON.stringify([vitals('h-2', 70, Date.now() - 3000), vitals('h-3', 999), vitals('h-4', 71, Date.now() - 2000)]), dev);
      assert.equal(r.status, 202);
      assert.deepEqual(r.json.results?.map((x) => x.error?.code ?? x.outcome), ['stored', 'VALUE_OUT_OF_RANGE', 'stored']);
    });

    it('refuses a bad single message with its code, and requests without a stored LDevID', async () => {
      assert.deepEqual(await curl(JSON.stringify({ ...vitals('h-5'), v: 9 }), dev).then((r) => [r.status, r.json.error?.code]), [400, 'MESSAGE_VERSION_UNSUPPORTED']);
      assert.deepEqual(await curl(JSON.stringify(vitals('h-6', 72, Date.now() + 3_600_000)), dev).then((r) => [r.status, r.json.error?.code]), [422, 'TIMESTAMP_IN_FUTURE']);
      assert.deepEqual(await curl(JSON.stringify(vitals('h-7'))).then((r) => [r.status, r.json.error?.code]), [401, 'CLIENT_CERT_REQUIRED']);
      assert.deepEqual(await curl(JSON.stringify(vitals('h-8')), pki.issueUnstored('dev_h')).then((r) => [r.status, r.json.error?.code]), [403, 'CERT_UNTRUSTED']);
      await t.db.updateTable('certificate').set({ status: 'revoked' }).where('serial', '=', dev.serial).execute();
      assert.deepEqual(await curl(JSON.stringify(vitals('h-9')), dev).then((r) => [r.status, r.json.error?.code]), [403, 'CERT_REVOKED']);
      const stored = await t.db.selectFrom('telemetry_message').select('message_id').where('device_id', '=', 'dev_h').orderBy('seq').execute();
      assert.deepEqual(stored.map((s) => s.message_id), ['h-1', 'h-2', 'h-4']);
    });
  });
}
