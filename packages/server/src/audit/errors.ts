import { defineErrors, MedTrustError } from '@medtrust/core';

export const auditErrors = defineErrors({
  AUDIT_TAMPERED: { status: 409, meaning: 'The audit log does not verify (an entry was edited, deleted or reordered), so no checkpoint was signed over it.', fix: 'Run `medtrust audit verify` to find the first bad entry; restore the log from a backup and investigate.' },
  AUDIT_NO_CHECKPOINT: { status: 409, meaning: 'No signed checkpoint covers the requested entry yet.', fix: 'Create one with `medtrust audit checkpoint` (or wait for the scheduled job) and ask again.' },
  AUDIT_ENTRY_NOT_FOUND: { status: 404, meaning: 'No audit entry with that sequence number.', fix: 'Use a seq between 1 and the current log size.' },
  AUDIT_FORMAT_UNKNOWN: { status: 400, meaning: 'The export format is not one the platform writes.', fix: 'Use `jsonl` or `syslog`.' },
});

export type AuditErrorCode = keyof typeof auditErrors;
export class AuditError extends MedTrustError<AuditErrorCode> {}
