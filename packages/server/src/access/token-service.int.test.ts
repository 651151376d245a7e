import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock, MedTrustError } from '@medtrust/core';
import { DbAuditLog } from '../audit/index.ts';
import { migrateToLatest } from '../db/index.ts';
import { createTestDatabase, TEST_DIALECTS, type TestDatabase } from '../db/testing.ts';
import { allMigrations } from '../migrations.ts';
import { TenantService } from './tenant-service.ts';
import { TokenService } from './token-service.ts';

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof MedTrustError, String(e));
    return e.code;
  }
  assert.fail('expected an error');
}

for (const dialect of TEST_DIALECTS) {
  describe(`TokenService (${dialect})`, () => {
    let t: TestDatabase;
    let tokens: TokenService;
    let tenantId: string;
    const clock = new ManualClock(1_800_000_000_000);
    before(async () => {
      t = await createTestDatabase(dialect);
      await migrateToLatest(t.db, dialect, allMigrations);
      tenantId = await new TenantService({ db: t.db, clock }).ensureOperator();
      tokens = new TokenService({ db: t.db, audit: new DbAuditLog({ db: t.db, dialect, clock }), clock });
    });
    after(() => t.close());

    it('authenticates a fresh token and stores only its hash', async () => {
      const c = await tokens.create({ tenantId, role: 'biomed', name: 't', createdBy: 'test' });
      const p = await tokens.authenticate(c.token);
      assert.equal(p.role, 'biomed');
      assert.equal(p.tenantId, tenantId);
      const row = await t.db.selectFrom('api_token').selectAll().where('id', '=', c.id).executeTakeFirstOrThrow();
      assert.ok(!JSON.stringify(row).includes(c.token.split('.')[1]!));
    });

    describe('when the token is not good', () => {
      it('refuses a tampered secret, an expired and a revoked token', async () => {
        const c = await tokens.create({ tenantId, role: 'auditor', name: 't', ttlDays: 1, createdBy: 'test' });
        const last = c.token.at(-1) === 'A' ? 'B' : 'A';
        assert.equal(await codeOf(tokens.authenticate(c.token.slice(0, -1) + last)), 'TOKEN_INVALID');
        assert.equal(await codeOf(tokens.authenticate('mt_garbage')), 'TOKEN_INVALID');
        clock.advance(2 * 86_400_000);
        assert.equal(await codeOf(tokens.authenticate(c.token)), 'TOKEN_INVALID');
        const d = await tokens.create({ tenantId, role: 'auditor', name: 't', createdBy: 'test' });
        await tokens.revoke(d.id, 'test');
        assert.equal(await codeOf(tokens.authenticate(d.token)), 'TOKEN_INVALID');
      });

      it('refuses an unknown role', async () => {
        assert.equal(await codeOf(tokens.create({ tenantId, role: 'root', name: 't', createdBy: 'test' })), 'ROLE_UNKNOWN');
      });
    });
  });
}
