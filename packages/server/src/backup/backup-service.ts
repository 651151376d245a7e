import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database, DomainMigration, SqlDialectName } from '../db/index.ts';
import { migrateToLatest, openDatabase } from '../db/index.ts';
import { BackupError } from './errors.ts';
import { openSealed, SealingWriter } from './sealed-stream.ts';

/** Data dir entries a backup carries: the key store, sealed secrets, the master key file, artifacts. */
const DATA_DIR_ENTRIES = ['keys', 'secrets', 'artifacts', 'master.key'];
/** Tables the migrator owns; restore re-creates them by migrating. */
const SKIP_TABLES = new Set(['schema_migration', 'schema_migration_lock', 'sqlite_sequence']);
const PAGE_ROWS = 2000;

type Row = Record<string, unknown>;
type Line =
  | { readonly k: 'row'; readonly t: string; readonly r: Row }
  | { readonly k: 'file'; readonly p: string; readonly mode: number; readonly d: string }
  | { readonly k: 'migrations'; readonly names: readonly string[] }
  | { readonly k: 'end'; readonly rows: number; readonly files: number };

export interface BackupSummary {
  readonly tables: number;
  readonly rows: number;
  readonly files: number;
}

function encodeRow(r: Row): Row {
  const out: Row = {};
  for (const [k, v] of Object.entries(r)) out[k] = Buffer.isBuffer(v) || v instanceof Uint8Array ? { $b64: Buffer.from(v).toString('base64') } : v;
  return out;
}

function decodeRow(r: Row): Row {
  const out: Row = {};
  for (const [k, v] of Object.entries(r)) out[k] = v !== null && typeof v === 'object' && '$b64' in v ? Buffer.from(String((v as { $b64: string }).$b64), 'base64') : v;
  return out;
}

async function tableNames(db: Kysely<Database> | Transaction<Database>, dialect: SqlDialectName): Promise<string[]> {
  const r = dialect === 'sqlite'
    ? await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name`.execute(db)
    : await sql<{ name: string }>`select tablename as name from pg_tables where schemaname = current_schema() order by tablename`.execute(db);
  return r.rows.map((x) => x.name);
}

/**
 * Writes an encrypted, integrity-protected, consistent snapshot: every table read inside one
 * snapshot transaction (WAL read transaction on SQLite, REPEATABLE READ on PostgreSQL) while the
 * platform keeps serving, plus the key store, sealed secrets, master key file and artifacts.
 * Keys in an HSM stay in the HSM: back the token up with the HSM's own tools (docs/backup.md).
 */
export async function createBackup(opts: { db: Kysely<Database>; dialect: SqlDialectName; dataDir: string; passphrase: string; outFile: string }): Promise<BackupSummary> {
  if (opts.passphrase.length < 12) throw new BackupError('BACKUP_PASSPHRASE_REQUIRED', 'passphrase must be at least 12 characters');
  mkdirSync(dirname(opts.outFile), { recursive: true });
  const fd = openSync(opts.outFile, 'wx', 0o600);
  try {
    const w = new SealingWriter(opts.passphrase, opts.dialect, (b) => void writeSync(fd, b));
    const line = (l: Line): void => w.write(`${JSON.stringify(l)}\n`);
    let rows = 0;
    let tables = 0;
    const tx = opts.db.transaction();
    await (opts.dialect === 'postgres' ? tx.setIsolationLevel('repeatable read').setAccessMode('read only') : tx).execute(async (trx) => {
      const migrations = await trx.selectFrom('schema_migration' as never).select('name' as never).execute();
      line({ k: 'migrations', names: (migrations as Array<{ name: string }>).map((m) => m.name) });
      for (const t of await tableNames(trx, opts.dialect)) {
        if (SKIP_TABLES.has(t)) continue;
        tables++;
        for (let offset = 0; ; offset += PAGE_ROWS) {
          const page = await sql<Row>`select * from ${sql.table(t)} limit ${PAGE_ROWS} offset ${offset}`.execute(trx);
          for (const r of page.rows) line({ k: 'row', t, r: encodeRow(r) });
          rows += page.rows.length;
          if (page.rows.length < PAGE_ROWS) break;
        }
      }
    });
    let files = 0;
    for (const entry of DATA_DIR_ENTRIES) {
      for (const path of walk(join(opts.dataDir, entry))) {
        line({ k: 'file', p: relative(opts.dataDir, path), mode: statSync(path).mode & 0o777, d: readFileSync(path).toString('base64') });
        files++;
      }
    }
    line({ k: 'end', rows, files });
    w.finish();
    return { tables, rows, files };
  } finally {
    closeSync(fd);
  }
}

function* walk(path: string): Generator<string> {
  if (!existsSync(path)) return;
  const st = statSync(path);
  if (st.isFile()) {
    yield path;
    return;
  }
  if (!st.isDirectory()) return;
  for (const name of readdirSync(path).sort()) yield* walk(join(path, name));
}

/**
 * Rebuilds a data dir (and database) from a backup. The whole file is verified before anything
 * is written; the target must be empty. Rows keep their ids, so certificates, audit chain and
 * CRL numbers are the same as in the source.
 */
export async function restoreBackup(opts: { backup: Buffer; passphrase: string; dataDir: string; databaseUrl?: string; migrations: readonly DomainMigration[] }): Promise<BackupSummary> {
  const { plaintext } = openSealed(opts.backup, opts.passphrase);
  const lines = plaintext.toString('utf8').split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as Line);
  const end = lines.at(-1);
  if (end?.k !== 'end') throw new BackupError('BACKUP_CORRUPT', 'backup has no end record');
  const names = lines.find((l): l is Extract<Line, { k: 'migrations' }> => l.k === 'migrations')?.names ?? [];
  const known = new Set(opts.migrations.map((m) => m.name));
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length > 0) throw new BackupError('BACKUP_FORMAT_UNSUPPORTED', `backup has migrations this version does not know: ${unknown.join(', ')}`);
  if (existsSync(opts.dataDir) && readdirSync(opts.dataDir).length > 0) throw new BackupError('BACKUP_TARGET_NOT_EMPTY', `${opts.dataDir} is not empty`);
  mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  const handle = openDatabase({ dataDir: opts.dataDir, databaseUrl: opts.databaseUrl });
  try {
    if ((await tableNames(handle.db, handle.dialect)).length > 0) throw new BackupError('BACKUP_TARGET_NOT_EMPTY', 'the target database already has tables');
    await migrateToLatest(handle.db, handle.dialect, opts.migrations);
    const byTable = new Map<string, Row[]>();
    for (const l of lines) if (l.k === 'row') {
      let list = byTable.get(l.t);
      if (!list) byTable.set(l.t, (list = []));
      list.push(decodeRow(l.r));
    }
    let rows = 0;
    if (handle.dialect === 'sqlite') await sql`pragma foreign_keys = off`.execute(handle.db);
    await handle.db.transaction().execute(async (trx) => {
      // Rows go back as they were; foreign keys are checked by the source that wrote them.
      if (handle.dialect === 'postgres') await sql`set local session_replication_role = replica`.execute(trx);
      for (const [t, list] of byTable) {
        for (let i = 0; i < list.length; i += 200) {
          await trx.insertInto(t as never).values(list.slice(i, i + 200)).execute();
        }
        rows += list.length;
      }
      if (handle.dialect === 'postgres') {
        const serials = await sql<{ t: string; c: string; s: string }>`select table_name as t, column_name as c, pg_get_serial_sequence(table_name, column_name) as s from information_schema.columns where table_schema = current_schema() and column_default like 'nextval%'`.execute(trx);
        for (const s of serials.rows) await sql`select setval(${s.s}, greatest(coalesce((select max(${sql.ref(s.c)}) from ${sql.table(s.t)}), 0), 1))`.execute(trx);
      }
    });
    if (handle.dialect === 'sqlite') await sql`pragma foreign_keys = on`.execute(handle.db);
    let files = 0;
    for (const l of lines) if (l.k === 'file') {
      const target = join(opts.dataDir, l.p);
      if (relative(opts.dataDir, target).startsWith('..')) throw new BackupError('BACKUP_CORRUPT', `file path escapes the data dir: ${l.p}`);
      mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
      writeFileSync(target, Buffer.from(l.d, 'base64'), { mode: l.mode & 0o700 });
      files++;
    }
    if (rows !== end.rows || files !== end.files) throw new BackupError('BACKUP_CORRUPT', 'backup counts do not match its end record');
    return { tables: byTable.size, rows, files };
  } finally {
    await handle.close();
  }
}
