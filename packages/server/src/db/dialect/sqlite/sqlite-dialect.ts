import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, type SqliteDatabase, type SqliteStatement } from 'kysely';
import type { Database } from '../../schema.ts';
import { WalCheckpointer } from './wal-checkpointer.ts';

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
  // Checkpoints run mostly on a worker (WalCheckpointer); the WAL file is cut back to 64 MiB.
  sqlite.pragma('journal_size_limit = 67108864');
  let checkpointer: WalCheckpointer | undefined;
  if (file !== ':memory:') {
    sqlite.pragma('wal_autocheckpoint = 4000');
    checkpointer = new WalCheckpointer(file, { onError: (message) => process.emitWarning(`SQLite checkpoint failed: ${message}`) });
  }
  return new Kysely<Database>({ dialect: new SqliteDialect({ database: new StatementCache(sqlite, () => void checkpointer?.stop()) }) });
}

const CACHED_STATEMENTS = 500;

/**
 * Kysely's SQLite driver prepares every query anew; preparing (parsing and planning) costs as
 * much as running a small indexed query, so hot paths (desired-state checks, telemetry commits,
 * authentication) paid it on every call. Statements are kept by their SQL text, least recently
 * used dropped first. Reuse is safe: Kysely runs one query at a time on the one connection, and a
 * streamed query holds the connection until its iterator is done.
 */
export class StatementCache implements SqliteDatabase {
  readonly #db: BetterSqlite3.Database;
  readonly #statements = new Map<string, SqliteStatement>();
  readonly #beforeClose: () => void;

  constructor(db: BetterSqlite3.Database, beforeClose: () => void = () => undefined) {
    this.#db = db;
    this.#beforeClose = beforeClose;
  }

  prepare(sql: string): SqliteStatement {
    let statement = this.#statements.get(sql);
    if (statement) {
      // Map keeps insertion order: re-inserting marks it most recently used.
      this.#statements.delete(sql);
    } else {
      statement = this.#db.prepare(sql);
      if (this.#statements.size >= CACHED_STATEMENTS) this.#statements.delete(this.#statements.keys().next().value!);
    }
    this.#statements.set(sql, statement);
    return statement;
  }

  close(): void {
    this.#beforeClose();
    this.#statements.clear();
    this.#db.close();
  }
}
