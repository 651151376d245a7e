// HttpsDeviceSessions on a real TLS listener (OpenSSL-made LDevIDs, node:https keep-alive client):
// the session outlives requests but not the certificate's validity.
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { Agent, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { DbAuditLog } from '../audit/index.ts';
import { migrateToLatest } from '../db/index.ts';
import { createTestDatabase, TEST_DIALECTS, type TestDatabase } from '../db/testing.ts';
import { LocalEventBus } from '../events/index.ts';
import { buildHttpApp } from '../http/index.ts';
import { createLogger } from '../logging/index.ts';
import { allMigrations } from '../migrations.ts';
import { DeviceGateway, deviceHttpsRoutes } from './index.ts';
import { createOpensslTestPki, type OpensslTestPki, type TestDeviceCert } from './testing/openssl-test-pki.ts';
import { TableCertificateStore, TableDeviceDirectory } from './testing/table-identity.ts';

for (const dialect of TEST_DIALECTS) {
  describe(`HttpsDeviceSessions (${dialect})`, () => {
    let t: TestDatabase;
    let pki: OpensslTestPki;
    let gw: DeviceGateway;
    let app: FastifyInstance;
    let port: number;
    let dev: TestDeviceCert;
    let renewed: TestDeviceCert;
    let offsetMs = 0;
    let seq = 0;

    before(async () => {
      t = await createTestDatabase(dialect);
      await migrateToLatest(t.db, dialect, allMigrations);
      pki = await createOpensslTestPki(t.db);
      dev = await pki.enrolDevice({ deviceId: 'dev_s', tenantId: 'ten_s', state: 'enrolled', validDays: 2 });
      renewed = await pki.enrolDevice({ deviceId: 'dev_r', tenantId: 'ten_s', state: 'active' });
      const metrics = new Registry();
      const logger = createLogger({ level: 'silent' });
      gw = await DeviceGateway.start({ db: t.db, audit: new DbAuditLog({ db: t.db, dialect }), events: new LocalEventBus(), logger, metrics, node: 'n1', clock: { nowMs: () => Date.now() + offsetMs }, certificates: new TableCertificateStore(t.db), devices: new TableDeviceDirectory(t.db), mqtt: undefined });
      app = await buildHttpApp({
        logger, metrics, version: 'test', ready: async () => true,
        routes: [deviceHttpsRoutes({ sessions: gw.https, ingest: gw.ingest, buckets: gw.buckets })],
        https: { key: pki.server.keyPem, cert: pki.server.chainPem, ca: [pki.operationalPem, pki.rootPem], requestCert: true, rejectUnauthorized: false },
      });
      await app.listen({ host: '127.0.0.1', port: 0 });
      port = (app.server.address() as AddressInfo).port;
    });
    after(async () => {
      await app.close();
      await gw.stop();
      pki.close();
      await t.close();
    });

    const post = (agent: Agent): Promise<{ status: number; code: string | undefined; socket: TLSSocket }> => new Promise((resolve, reject) => {
      let socket: TLSSocket | undefined;
      const body = JSON.stringify({ v: 1, id: `s-${seq++}`, ts: Date.now() - 1000, kind: 'health', health: { batteryPct: 80, firmwareVersion: '1.0.0', uptimeS: 60, errorCodes: [] } });
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/device/v1/messages', agent, headers: { 'content-type': 'application/json' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, code: (JSON.parse(Buffer.concat(chunks).toString()) as { error?: { code: string } }).error?.code, socket: socket! }));
      });
      req.on('socket', (s) => (socket = s as TLSSocket));
      req.on('error', reject);
      req.end(body);
    });

    it('keeps the session for the keep-alive connection, activates the device, and forgets it on close', async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1, cert: dev.certPem, key: dev.keyPem, ca: pki.rootPem });
      const a = await post(agent);
      const b = await post(agent);
      assert.deepEqual([a.status, b.status], [202, 202]);
      assert.equal(a.socket, b.socket);
      assert.equal(gw.https.connections, 1);
      assert.deepEqual(gw.https.devicesWithCert(dev.serial), ['dev_s']);
      const closed = new Promise((r) => a.socket.once('close', r));
      agent.destroy();
      await closed;
      // The server sees the close a moment after the client.
      for (let i = 0; i < 100 && gw.https.connections > 0; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(gw.https.connections, 0);
      // Activation is recorded beside the request path (as after an MQTT CONNACK).
      const state = async (): Promise<string> => (await t.db.selectFrom('device').select('state').where('id', '=', 'dev_s').executeTakeFirstOrThrow()).state;
      for (let i = 0; i < 100 && (await state()) !== 'active'; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(await state(), 'active');
    });

    it('refuses the next request on a live connection once the certificate has expired, and closes it', async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1, cert: dev.certPem, key: dev.keyPem, ca: pki.rootPem });
      try {
        const ok = await post(agent);
        assert.equal(ok.status, 202);
        const notAfter = Number((await t.db.selectFrom('certificate').select('not_after').where('serial', '=', dev.serial).executeTakeFirstOrThrow()).not_after);
        offsetMs = notAfter - Date.now() + 1000;
        // The sweep would find it idle.
        assert.deepEqual(gw.https.devicesExpiredAt(Date.now() + offsetMs), ['dev_s']);
        const closed = new Promise((r) => ok.socket.once('close', r));
        const refused = await post(agent);
        assert.equal(refused.socket, ok.socket, 'refused on the connection that outlived its certificate');
        assert.deepEqual([refused.status, refused.code], [403, 'CERT_EXPIRED']);
        await closed;
        assert.equal(gw.https.connections, 0);
        // A new connection is refused by the full check.
        assert.deepEqual(await post(agent).then((r) => [r.status, r.code]), [403, 'CERT_EXPIRED']);
      } finally {
        offsetMs = 0;
        agent.destroy();
      }
    });

    it('runs the full check again after a minute on a live connection: a superseded LDevID is refused then', async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1, cert: renewed.certPem, key: renewed.keyPem, ca: pki.rootPem });
      try {
        const ok = await post(agent);
        assert.equal(ok.status, 202);
        // Renewal supersedes the old LDevID without an event: the live session does not hear of it...
        await t.db.updateTable('certificate').set({ status: 'superseded' }).where('serial', '=', renewed.serial).execute();
        const cached = await post(agent);
        assert.deepEqual([cached.status, cached.socket], [202, ok.socket]);
        // ...until the session is a minute old and the next request runs the authenticator again.
        offsetMs = 61_000;
        const closed = new Promise((r) => ok.socket.once('close', r));
        const refused = await post(agent);
        assert.deepEqual([refused.status, refused.code, refused.socket], [403, 'CERT_REVOKED', ok.socket]);
        await closed;
        assert.deepEqual(gw.https.devicesWithCert(renewed.serial), []);
      } finally {
        offsetMs = 0;
        agent.destroy();
      }
    });
  });
}
