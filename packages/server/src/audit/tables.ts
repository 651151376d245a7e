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

/** A signed Merkle checkpoint over entries 1..tree_size (docs/audit.md). */
export interface AuditCheckpointTable {
  /** Number of entries covered: seq 1..tree_size. */
  tree_size: number;
  /** RFC 9162 Merkle Tree Hash over the entry hashes. */
  root_hash: Buffer;
  at: number;
  /** Signature over the checkpoint note (`checkpointNote`), by the key `key_id` names. */
  signature: Buffer;
  /** Hex SHA-256 of the signing key's SubjectPublicKeyInfo DER. */
  key_id: string;
  algorithm: string;
  /** The compact range (perfect-subtree roots) so the next checkpoint resumes without rereading. */
  frontier: Buffer;
}

/**
 * Checkpoint signing keys by key store ref. Only the ref is kept here: a verifier loads the public
 * key from the key store, so editing this table cannot make a forged checkpoint verify.
 */
export interface AuditSigningKeyTable {
  key_id: string;
  ref: string;
  algorithm: string;
  created_at: number;
  /** Set when a newer key took over; old checkpoints stay verifiable with it. */
  retired_at: number | null;
}

export interface AuditTables {
  audit_entry: AuditEntryTable;
  audit_checkpoint: AuditCheckpointTable;
  audit_signing_key: AuditSigningKeyTable;
}
