import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openPostgresDatabase } from './dialect/postgres/postgres-dialect.ts';
import { openSqliteDatabase } from './dialect/sqlite/sqlite-dialect.ts';
import type { DatabaseHandle } from './open-database.ts';
import type { SqlDialectName } from './sql-dialect.ts';

/** Server holding the per-test PostgreSQL databases (trust auth on this machine and in CI). */
export const TEST_POSTGRES_ADMIN_URL = process.env.MEDTRUST_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase extends DatabaseHandle {
  /** The URL to give a platform process (postgres), or undefined (sqlite: use `dataDir`). */
  readonly url: string | undefined;
  readonly dataDir: string;
}

/** Creates an empty database of the given dialect; `close()` drops it. */
export async function createTestDatabase(dialect: SqlDialectName): Promise<TestDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), 'medtrust-test-'));
  if (dialect === 'sqlite') {
    const db = openSqliteDatabase(join(dataDir, 'medtrust.db'));
    return {
      db, dialect, url: undefined, dataDir,
      close: async () => {
        await db.destroy();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  const name = `medtrust_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: TEST_POSTGRES_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(TEST_POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  const db = openPostgresDatabase(url.toString(), 5);
  return {
    db, dialect, url: url.toString(), dataDir,
    close: async () => {
      await db.destroy();
      const a = new pg.Client({ connectionString: TEST_POSTGRES_ADMIN_URL });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Both dialects: storage and API tests run once per dialect. */
export const TEST_DIALECTS: readonly SqlDialectName[] = ['sqlite', 'postgres'];
