import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database } from '../../schema.ts';

/** Opens (creating if needed) a SQLite database file in WAL mode with foreign keys enforced. */
export function openSqliteDatabase(file: string): Kysely<Database> {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const sqlite = new BetterSqlite3(file);
  sqlite.pragma('journal_mode = WAL');
  // NORMAL with WAL is durable at checkpoint and survives process crashes (kill -9); only an OS
  // crash can lose the last commits. FULL would fsync each commit: the acknowledged-telemetry
  // guarantee needs survival of the process, which NORMAL gives.
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 10000');
  return new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
}
