import { defineErrors, MedTrustError } from '@medtrust/core';

export const backupErrors = defineErrors({
  BACKUP_PASSPHRASE_REQUIRED: { status: 400, meaning: 'A backup needs a passphrase of at least 12 characters to encrypt it.', fix: 'Set MEDTRUST_BACKUP_PASSPHRASE (or --passphrase-file) and keep it apart from the backup.' },
  BACKUP_CORRUPT: { status: 400, meaning: 'The backup does not verify: wrong passphrase, or the file was altered, truncated or reordered.', fix: 'Use the passphrase it was made with; restore from an untampered copy.' },
  BACKUP_FORMAT_UNSUPPORTED: { status: 400, meaning: 'The file is not a MedTrust backup, or was made by a newer version.', fix: 'Restore with the MedTrust version that made it, or newer.' },
  BACKUP_TARGET_NOT_EMPTY: { status: 409, meaning: 'The restore target (data dir or database) already holds data.', fix: 'Restore into a new, empty data dir and an empty database.' },
});

export type BackupErrorCode = keyof typeof backupErrors;
export class BackupError extends MedTrustError<BackupErrorCode> {}
