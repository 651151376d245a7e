export { DbAuditLog, entryHash, GENESIS_HASH } from './audit-log.ts';
export type { AuditLog, AuditEvent } from './audit-log.ts';
export { auditMigrations } from './migrations.ts';
export type { AuditTables } from './tables.ts';
