import { Migrator, type Kysely, type Migration } from 'kysely';
import { CoreError } from '@medtrust/core';
import type { DomainMigration } from './migration.ts';
import { columnTypes, type SqlDialectName } from './sql-dialect.ts';
import type { Database } from './schema.ts';

/** Applies every migration not yet applied, in name order; fails with the first error. */
export async function migrateToLatest(db: Kysely<Database>, dialect: SqlDialectName, migrations: readonly DomainMigration[]): Promise<string[]> {
  const t = columnTypes(dialect);
  const record: Record<string, Migration> = {};
  for (const m of migrations) {
    if (record[m.name]) throw new Error(`duplicate migration name ${m.name}`);
    record[m.name] = { up: (d) => m.up(d, t) };
  }
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => record },
    migrationTableName: 'schema_migration',
    migrationLockTableName: 'schema_migration_lock',
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw new CoreError('INTERNAL', 'database migration failed', { cause: error });
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
