export interface AuditEntryTable {
  /** Position in the chain, from 1, without gaps. */
  seq: number;
  at: number;
  tenant_id: string | null;
  /** Who: `token:<id>`, `user:<id>`, `device:<id>`, `system`, `cli`. */
  actor: string;
  /** What, dotted: `pki.certificate.issued`, `est.enroll.refused`. */
  action: string;
  /** The object acted on, e.g. `certificate:<serial>`, `device:<id>`. */
  target: string | null;
  outcome: 'success' | 'failure' | 'denied';
  /** JSON object; never secrets or PHI values. */
  details: string;
  prev_hash: Buffer;
  /** SHA-256 over the canonical JSON of this entry's fields and prev_hash. */
  hash: Buffer;
}

export interface AuditTables {
  audit_entry: AuditEntryTable;
}
