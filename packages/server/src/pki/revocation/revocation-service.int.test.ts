import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isMedTrustError, ManualClock } from '@medtrust/core';
import { DbAuditLog } from '../../audit/index.ts';
import { migrateToLatest } from '../../db/index.ts';
import { createTestDatabase, TEST_DIALECTS, type TestDatabase } from '../../db/testing.ts';
import { DbEventBus } from '../../events/index.ts';
import type { PlatformEvent } from '../../events/index.ts';
import { allMigrations } from '../../migrations.ts';
import { CrlService } from '../crl/index.ts';
import { RevocationService } from './revocation-service.ts';
import { parseCrlIndependently } from './testing/independent-parsers.ts';
import { createTestPki, type TestPki } from './testing/test-pki.ts';

const codeOf = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
  } catch (e) {
    if (isMedTrustError(e)) return e.code;
    throw e;
  }
  return 'NO_ERROR';
};

for (const dialect of TEST_DIALECTS) {
  describe(`RevocationService (${dialect})`, () => {
    let t: TestDatabase;
    let pki: TestPki;
    let svc: RevocationService;
    let events: DbEventBus;
    const heard: PlatformEvent[] = [];
    const clock = new ManualClock(Date.UTC(2026, 10, 23, 12));

    before(async () => {
      t = await createTestDatabase(dialect);
      await migrateToLatest(t.db, dialect, allMigrations);
      pki = await createTestPki(t.db, clock.nowMs());
      events = new DbEventBus({ db: t.db, clock });
      events.subscribe('certificate.revoked', (e) => void heard.push(e));
      svc = new RevocationService({ db: t.db, audit: new DbAuditLog({ db: t.db, dialect, clock }), events, clock });
    });
    after(() => t.close());

    it('revokes atomically, audits pki.certificate.revoked and publishes certificate.revoked', async () => {
      const c = await pki.issue({ ca: 'operational' });
      const r = await svc.revoke(c.serial.toUpperCase().replace(/(..)(?!$)/g, '$1:'), 'keyCompromise', 'token:tok_test');
      assert.equal(r.serial, c.serial);
      assert.equal(r.reasonCode, 1);
      const row = await t.db.selectFrom('certificate').selectAll().where('serial', '=', c.serial).executeTakeFirstOrThrow();
      assert.equal(row.status, 'revoked');
      assert.equal(Number(row.revoked_at), clock.nowMs());
      assert.equal(row.revocation_reason, 1);
      const audit = await t.db.selectFrom('audit_entry').selectAll().where('action', '=', 'pki.certificate.revoked').where('target', '=', `certificate:${c.serial}`).execute();
      assert.equal(audit.length, 1);
      assert.equal(audit[0]?.actor, 'token:tok_test');
      assert.equal(audit[0]?.outcome, 'success');
      assert.deepEqual(heard.at(-1), { kind: 'certificate.revoked', serial: c.serial, caName: 'operational', deviceId: null, reason: 1 });
      const ev = await t.db.selectFrom('cluster_event').selectAll().where('kind', '=', 'certificate.revoked').execute();
      assert.ok(ev.some((e) => (JSON.parse(e.payload) as { serial: string }).serial === c.serial), 'the event reaches other processes through the table');
    });

    it('refuses a second revocation (CERT_ALREADY_REVOKED), also when concurrent, and audits the failure', async () => {
      const c = await pki.issue({ ca: 'manufacturing' });
      const results = await Promise.all(Array.from({ length: 5 }, () => codeOf(svc.revoke(c.serial, 'superseded', 'cli'))));
      assert.equal(results.filter((x) => x === 'NO_ERROR').length, 1);
      assert.equal(results.filter((x) => x === 'CERT_ALREADY_REVOKED').length, 4);
      assert.equal(await codeOf(svc.revoke(c.serial, 'keyCompromise', 'cli')), 'CERT_ALREADY_REVOKED');
      const row = await t.db.selectFrom('certificate').select(['revocation_reason']).where('serial', '=', c.serial).executeTakeFirstOrThrow();
      assert.equal(row.revocation_reason, 4, 'the first reason stands');
      const failures = await t.db.selectFrom('audit_entry').select('outcome').where('target', '=', `certificate:${c.serial}`).where('outcome', '=', 'failure').execute();
      assert.equal(failures.length, 5);
    });

    it('refuses removeFromCRL and unknown reasons (REVOCATION_REASON_INVALID) and leaves the row valid', async () => {
      const c = await pki.issue({ ca: 'operational' });
      for (const reason of ['removeFromCRL', 'bogus', '', 'KEYCOMPROMISE', '1', 'constructor', '__proto__']) {
        assert.equal(await codeOf(svc.revoke(c.serial, reason, 'cli')), 'REVOCATION_REASON_INVALID', reason);
      }
      const row = await t.db.selectFrom('certificate').select('status').where('serial', '=', c.serial).executeTakeFirstOrThrow();
      assert.equal(row.status, 'valid');
    });

    it('answers CERT_NOT_FOUND for unknown and malformed serials, and outside the tenant scope', async () => {
      for (const s of ['0badc0ffee', 'zz', 'x'.repeat(100), '']) assert.equal(await codeOf(svc.revoke(s, 'unspecified', 'cli')), 'CERT_NOT_FOUND', s);
      const c = await pki.issue({ ca: 'operational' });
      assert.equal(await codeOf(svc.revoke(c.serial, 'unspecified', 'cli', { kind: 'tenant', tenantId: 'ten_other' })), 'CERT_NOT_FOUND');
      const row = await t.db.selectFrom('certificate').select('status').where('serial', '=', c.serial).executeTakeFirstOrThrow();
      assert.equal(row.status, 'valid');
    });

    it('lists revoked and superseded certificates on the CRL with reasons; unspecified carries no reason code', async () => {
      const crls = new CrlService({ db: t.db, cas: pki.cas, events, clock, validityHours: 24 });
      const a = await pki.issue({ ca: 'infrastructure' });
      const b = await pki.issue({ ca: 'infrastructure' });
      const succ = await pki.issue({ ca: 'infrastructure' });
      await svc.revoke(a.serial, 'unspecified', 'cli');
      clock.advance(1000);
      await t.db.updateTable('certificate').set({ status: 'superseded', superseded_by: succ.serial }).where('serial', '=', b.serial).execute();
      const crl = parseCrlIndependently((await crls.get('infrastructure')).der, (await pki.cas.get('infrastructure')).certificateDer);
      assert.equal(crl.signatureValid, true);
      const bySerial = new Map(crl.entries.map((e) => [e.serialHex, e]));
      assert.equal(bySerial.get(a.serial)?.reason, undefined);
      assert.equal(bySerial.get(b.serial)?.reason, 4);
      assert.equal(bySerial.has(succ.serial), false);
    });

    it('re-issues the CRL when half its validity has passed, with a higher number', async () => {
      const crls = new CrlService({ db: t.db, cas: pki.cas, events, clock, validityHours: 2 });
      const first = await crls.get('root');
      assert.equal((await crls.get('root')).crlNumber, first.crlNumber, 'fresh CRL served from memory');
      clock.advance(3_600_000);
      const job = crls.job();
      await job.run();
      const second = await crls.get('root');
      assert.ok(second.crlNumber > first.crlNumber);
      assert.equal(second.thisUpdateMs, Math.floor(clock.nowMs() / 1000) * 1000);
      assert.equal(second.nextUpdateMs - second.thisUpdateMs, 2 * 3_600_000);
      assert.equal(await codeOf(crls.get('nope')), 'CA_UNKNOWN');
    });
  });
}
