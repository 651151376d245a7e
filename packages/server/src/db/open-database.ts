import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { openPostgresDatabase } from './dialect/postgres/postgres-dialect.ts';
import { openSqliteDatabase } from './dialect/sqlite/sqlite-dialect.ts';
import type { Database } from './schema.ts';
import type { SqlDialectName } from './sql-dialect.ts';

export interface DatabaseHandle {
  readonly db: Kysely<Database>;
  readonly dialect: SqlDialectName;
  close(): Promise<void>;
}

/** PostgreSQL when a URL is given, otherwise SQLite at `<dataDir>/medtrust.db`. */
export function openDatabase(opts: { readonly dataDir: string; readonly databaseUrl: string | undefined }): DatabaseHandle {
  const dialect: SqlDialectName = opts.databaseUrl ? 'postgres' : 'sqlite';
  const db = opts.databaseUrl ? openPostgresDatabase(opts.databaseUrl) : openSqliteDatabase(join(opts.dataDir, 'medtrust.db'));
  return { db, dialect, close: () => db.destroy() };
}
