import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock, isMedTrustError } from '@medtrust/core';
import { DbAuditLog } from '../../audit/index.ts';
import { migrateToLatest } from '../../db/index.ts';
import { createTestDatabase, TEST_DIALECTS, type TestDatabase } from '../../db/testing.ts';
import { allMigrations } from '../../migrations.ts';
import { EnrollTokenService } from './enroll-token-service.ts';

const T0 = 1_800_000_000_000;

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (isMedTrustError(e)) return e.code;
    throw e;
  }
  return 'resolved';
}

for (const dialect of TEST_DIALECTS) {
  describe(`EnrollTokenService (${dialect})`, () => {
    let t: TestDatabase;
    let clock: ManualClock;
    let svc: EnrollTokenService;
    before(async () => {
      t = await createTestDatabase(dialect);
      await migrateToLatest(t.db, dialect, allMigrations);
      clock = new ManualClock(T0);
      await t.db.insertInto('tenant').values({ id: 'ten_1', kind: 'operator', name: 'Operator', parent_id: null, time_zone: null, created_at: T0 }).execute();
      await t.db.insertInto('device').values({ id: 'dev_1', serial: 'SN1', model: 'pump', hardware_revision: 'A', tenant_id: 'ten_1', site_id: null, state: 'manufactured', firmware_version: null, batch_id: null, created_at: T0, updated_at: T0 }).execute();
      svc = new EnrollTokenService({ db: t.db, audit: new DbAuditLog({ db: t.db, dialect, clock }), ttlHours: 2, clock });
    });
    after(() => t.close());

    it('stores only a salted scrypt hash and a >= 128-bit password', async () => {
      const c = await svc.create({ deviceId: 'dev_1', createdBy: 'test' });
      assert.ok(Buffer.from(c.password, 'base64url').length >= 16);
      const row = await t.db.selectFrom('enroll_token').selectAll().where('username', '=', c.username).executeTakeFirstOrThrow();
      assert.equal(row.expires_at, T0 + 2 * 3_600_000);
      assert.ok(!Buffer.from(row.password_hash).toString('latin1').includes(c.password));
      assert.equal(Buffer.from(row.salt).length, 16);
    });

    it('works once: the second use is ENROLL_SECRET_USED, also when both race', async () => {
      const c = await svc.create({ deviceId: 'dev_1', createdBy: 'test' });
      const results = await Promise.allSettled([svc.consume(c.username, c.password, 'a'), svc.consume(c.username, c.password, 'b')]);
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      const rejected = results.find((r) => r.status === 'rejected');
      assert.equal((rejected as PromiseRejectedResult).reason.code, 'ENROLL_SECRET_USED');
      assert.equal(await codeOf(svc.consume(c.username, c.password, 'c')), 'ENROLL_SECRET_USED');
    });

    it('refuses a wrong password, an unknown username and garbage without consuming', async () => {
      const c = await svc.create({ deviceId: 'dev_1', createdBy: 'test' });
      const wrong = c.password.slice(0, -1) + (c.password.endsWith('A') ? 'B' : 'A');
      assert.equal(await codeOf(svc.consume(c.username, wrong, 'x')), 'ENROLL_UNAUTHORIZED');
      assert.equal(await codeOf(svc.consume('enr_00000000000000000000000000', c.password, 'x')), 'ENROLL_UNAUTHORIZED');
      assert.equal(await codeOf(svc.consume("'; drop table device; --", '', 'x')), 'ENROLL_UNAUTHORIZED');
      const ok = await svc.consume(c.username, c.password, 'x');
      assert.equal(ok.deviceId, 'dev_1');
    });

    it('refuses an expired secret with ENROLL_SECRET_USED', async () => {
      const c = await svc.create({ deviceId: 'dev_1', createdBy: 'test', ttlHours: 1 });
      clock.advance(3_600_001);
      assert.equal(await codeOf(svc.consume(c.username, c.password, 'x')), 'ENROLL_SECRET_USED');
    });

    it('release gives a consumed secret back once', async () => {
      const c = await svc.create({ deviceId: 'dev_1', createdBy: 'test' });
      const used = await svc.consume(c.username, c.password, 'x');
      await used.release();
      await svc.consume(c.username, c.password, 'x');
      assert.equal(await codeOf(svc.consume(c.username, c.password, 'x')), 'ENROLL_SECRET_USED');
    });

    it('refuses an unknown device and audits every decision', async () => {
      assert.equal(await codeOf(svc.create({ deviceId: 'dev_nope', createdBy: 'test' })), 'DEVICE_UNKNOWN');
      const actions = (await t.db.selectFrom('audit_entry').select(['action', 'outcome']).execute()).map((r) => `${r.action}:${r.outcome}`);
      assert.ok(actions.includes('pki.enroll-token.created:success'));
      assert.ok(actions.includes('pki.enroll-token.used:success'));
      assert.ok(actions.includes('pki.enroll-token.refused:denied'));
      assert.ok(actions.includes('pki.enroll-token.released:success'));
    });
  });
}
