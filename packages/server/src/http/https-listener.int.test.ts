import 'reflect-metadata';
import assert from 'node:assert/strict';
import type { X509Certificate } from 'node:crypto';
import { connect } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '@medtrust/core';
import { Registry } from 'prom-client';
import { TenantService } from '../access/index.ts';
import { DbAuditLog } from '../audit/index.ts';
import { migrateToLatest } from '../db/index.ts';
import { createTestDatabase, type TestDatabase } from '../db/testing.ts';
import { DeviceRegistry } from '../devices/index.ts';
import { DbEventBus } from '../events/index.ts';
import { createLogger } from '../logging/index.ts';
import { allMigrations } from '../migrations.ts';
import { CaHierarchy, IssuanceService, openKeyStore } from '../pki/index.ts';
import { type HttpsListener, startHttpsListener } from './https-listener.ts';

/** The certificate a fresh TLS handshake to the listener presents, verified against the root. */
function presented(port: number, rootPem: string): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, servername: 'localhost', ca: rootPem }, () => {
      const c = s.getPeerX509Certificate();
      s.end();
      if (!s.authorized || !c) reject(new Error(`not authorised: ${String(s.authorizationError)}`));
      else resolve(c);
    });
    s.on('error', reject);
  });
}

describe('startHttpsListener', () => {
  let t: TestDatabase;
  let listener: HttpsListener;
  let rootPem: string;
  const clock = new ManualClock(Date.now());

  before(async () => {
    t = await createTestDatabase('sqlite');
    await migrateToLatest(t.db, 'sqlite', allMigrations);
    const audit = new DbAuditLog({ db: t.db, dialect: 'sqlite' });
    const events = new DbEventBus({ db: t.db });
    const keyStore = await openKeyStore({ masterKey: 'listener-test-master-key', keyStore: { kind: 'file' } }, t.dataDir, { scryptN: 1024 });
    const cas = new CaHierarchy({ db: t.db, keyStore, audit, publicUrl: 'http://localhost:8080' });
    await cas.init();
    await new TenantService({ db: t.db, audit }).ensureOperator();
    const issuer = new IssuanceService({ db: t.db, dialect: 'sqlite', cas, devices: new DeviceRegistry({ db: t.db, audit, events }), audit, events, publicUrl: 'http://localhost:8080', ldevidValidityDays: 365 });
    rootPem = (await cas.get('root')).certificatePem;
    listener = await startHttpsListener({
      bindHost: '127.0.0.1', port: 0, publicUrl: 'http://localhost:8080', tlsHostnames: [], issuer, cas, clock,
      logger: createLogger({ level: 'silent' }), metrics: new Registry(), version: 'test', ready: async () => true, routes: [],
    });
  });
  after(async () => {
    await listener?.close();
    await t.close();
  });

  it('presents an infrastructure-issued certificate for localhost with its chain up to the root', async () => {
    const c = await presented(listener.port, rootPem);
    assert.equal(c.serialNumber.toLowerCase().replace(/^0+/, ''), listener.serverCertificate.serial.replace(/^0+/, ''));
    assert.match(c.subjectAltName ?? '', /DNS:localhost/);
    assert.match(c.subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
  });

  it('renews the certificate only when two thirds of its validity have passed, without a restart', async () => {
    const before = listener.serverCertificate;
    assert.equal(await listener.renewIfDue(), false);
    clock.set(before.notBefore + ((before.notAfter - before.notBefore) * 2) / 3 + 1);
    assert.equal(await listener.renewIfDue(), true);
    assert.notEqual(listener.serverCertificate.serial, before.serial);
    const c = await presented(listener.port, rootPem);
    assert.equal(c.serialNumber.toLowerCase().replace(/^0+/, ''), listener.serverCertificate.serial.replace(/^0+/, ''));
  });
});
