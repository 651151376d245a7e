export { PkiError, pkiErrors } from './errors.ts';
export type { PkiErrorCode } from './errors.ts';
export { pkiMigrations } from './migrations.ts';
export type { PkiTables } from './tables.ts';
