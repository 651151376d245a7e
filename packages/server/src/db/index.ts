export { openDatabase } from './open-database.ts';
export type { DatabaseHandle } from './open-database.ts';
export { migrateToLatest } from './migrate.ts';
export { columnTypes } from './sql-dialect.ts';
export type { SqlDialectName, ColumnTypes } from './sql-dialect.ts';
export type { DomainMigration } from './migration.ts';
export type { Database } from './schema.ts';
export { PREPARE_MARK, withPrepareMark } from './prepare-mark.ts';
