export { createBackup, restoreBackup } from './backup-service.ts';
export type { BackupSummary } from './backup-service.ts';
export { BackupError, backupErrors } from './errors.ts';
export type { BackupErrorCode } from './errors.ts';
