// The dialect wrappers against the real databases: SQLite statement cache and WAL checkpoints on
// a worker; PostgreSQL named prepared statements for queries carrying PREPARE_MARK.
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CompiledQuery, sql } from 'kysely';
import { createTestDatabase, type TestDatabase } from '../testing.ts';
import { PREPARE_MARK, withPrepareMark } from '../prepare-mark.ts';
import { openPostgresDatabase } from './postgres/postgres-dialect.ts';

describe('SQLite dialect', () => {
  let t: TestDatabase;
  before(async () => {
    t = await createTestDatabase('sqlite');
    await sql`create table kv (k integer primary key, v text not null)`.execute(t.db);
  });
  after(() => t.close());

  it('reuses cached statements correctly: same SQL, other parameters, reads and writes interleaved', async () => {
    for (let i = 0; i < 50; i++) await t.db.executeQuery(CompiledQuery.raw('insert into kv (k, v) values (?, ?)', [i, `v${i}`]));
    for (let i = 0; i < 50; i += 7) {
      const r = await t.db.executeQuery<{ v: string }>(CompiledQuery.raw('select v from kv where k = ?', [i]));
      assert.deepEqual(r.rows, [{ v: `v${i}` }]);
    }
    // A failing statement leaves the cached one usable.
    await assert.rejects(t.db.executeQuery(CompiledQuery.raw('insert into kv (k, v) values (?, ?)', [1, 'dup'])));
    await t.db.executeQuery(CompiledQuery.raw('insert into kv (k, v) values (?, ?)', [1000, 'after']));
    assert.equal((await t.db.executeQuery<{ n: number }>(CompiledQuery.raw('select count(*) as n from kv'))).rows[0]!.n, 51);
    // The mark is a comment to SQLite.
    assert.deepEqual((await t.db.executeQuery<{ v: string }>(CompiledQuery.raw(withPrepareMark('select v from kv where k = ?'), [1000]))).rows, [{ v: 'after' }]);
  });

  it('checkpoints the WAL off the event loop: the database file catches up while the platform connection only writes', async () => {
    const file = join(t.dataDir, 'medtrust.db');
    const before = statSync(file).size;
    const big = 'x'.repeat(2000);
    await t.db.transaction().execute(async (trx) => {
      for (let i = 0; i < 2000; i++) await trx.executeQuery(CompiledQuery.raw('insert into kv (k, v) values (?, ?)', [10_000 + i, big]));
    });
    // Far below the platform connection's 4,000-page automatic checkpoint: only the worker copies.
    for (let i = 0; i < 100 && statSync(file).size <= before + 2_000_000; i++) await sleep(50);
    assert.ok(statSync(file).size > before + 2_000_000, `database file grew from ${before} to ${statSync(file).size}`);
  });
});

describe('PostgreSQL dialect', () => {
  let t: TestDatabase;
  before(async () => {
    t = await createTestDatabase('postgres');
  });
  after(() => t.close());

  it('runs marked queries as named prepared statements on each connection, unmarked ones unnamed', async () => {
    const db = openPostgresDatabase(t.url!, 1);
    try {
      const marked = withPrepareMark('select $1::int + 1 as n');
      for (let i = 0; i < 3; i++) assert.deepEqual((await db.executeQuery<{ n: number }>(CompiledQuery.raw(marked, [i]))).rows, [{ n: i + 1 }]);
      await db.executeQuery(CompiledQuery.raw('select $1::int as plain', [1]));
      const prepared = (await db.executeQuery<{ name: string; statement: string }>(CompiledQuery.raw('select name, statement from pg_prepared_statements'))).rows;
      assert.equal(prepared.length, 1, JSON.stringify(prepared));
      assert.match(prepared[0]!.name, /^mt_[0-9a-f]{24}$/);
      assert.ok(prepared[0]!.statement.startsWith(PREPARE_MARK));
    } finally {
      await db.destroy();
    }
  });
});
