export interface PatientTable {
  id: string;
  tenant_id: string;
  /** HMAC-SHA256 of the MRN (keyed, per deployment): find by MRN without decrypting every row. */
  mrn_hmac: Buffer;
  /** Each PHI field sealed on its own with AES-256-GCM (iv | tag | ciphertext), AAD = id + field. */
  mrn_enc: Buffer;
  family_enc: Buffer;
  given_enc: Buffer;
  birth_date_enc: Buffer;
  mrn_system: string;
  created_at: number;
  created_by: string;
}

export interface PatientBindingTable {
  id: string;
  tenant_id: string;
  patient_id: string;
  device_id: string;
  /** Observations with device time in [from_ms, to_ms) belong to the patient. */
  from_ms: number;
  to_ms: number | null;
  created_by: string;
  created_at: number;
}

export interface PatientTables {
  patient: PatientTable;
  patient_binding: PatientBindingTable;
}
