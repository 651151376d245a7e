import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '@medtrust/core';
import { createTestDatabase, TEST_DIALECTS, type TestDatabase } from '../db/testing.ts';
import { migrateToLatest } from '../db/index.ts';
import { allMigrations } from '../migrations.ts';
import { DbAuditLog, entryHash, GENESIS_HASH } from './audit-log.ts';

for (const dialect of TEST_DIALECTS) {
  describe(`DbAuditLog (${dialect})`, () => {
    let t: TestDatabase;
    before(async () => {
      t = await createTestDatabase(dialect);
      await migrateToLatest(t.db, dialect, allMigrations);
    });
    after(() => t.close());

    it('chains every entry to the one before, also under concurrent appends', async () => {
      const log = new DbAuditLog({ db: t.db, dialect, clock: new ManualClock(1_700_000_000_000) });
      await Promise.all(Array.from({ length: 20 }, (_, i) => log.append({ actor: 'system', action: 'test.event', target: `x:${i}`, details: { i, ratio: 0.5 } })));
      await log.appendMany([{ actor: 'cli', action: 'test.batch' }, { actor: 'cli', action: 'test.batch', outcome: 'denied' }]);
      const rows = await t.db.selectFrom('audit_entry').selectAll().orderBy('seq').execute();
      assert.equal(rows.length, 22);
      let prev = GENESIS_HASH;
      rows.forEach((r, i) => {
        assert.equal(r.seq, i + 1);
        assert.deepEqual(Buffer.from(r.prev_hash), prev);
        assert.deepEqual(Buffer.from(r.hash), entryHash(prev, r));
        prev = Buffer.from(r.hash);
      });
      assert.equal(rows[21]?.outcome, 'denied');
    });
  });
}
