export interface CaTable {
  /** `root`, `manufacturing`, `operational`, `infrastructure`, `ocsp-signer` (the signer is not a CA but lives here). */
  name: string;
  /** Key store reference of the private key (never the key itself). */
  key_ref: string;
  certificate_der: Buffer;
  subject: string;
  /** Issuer's name in this table; null for the root. */
  issuer_name: string | null;
  /** SHA-1 of the subject public key (RFC 5280 key identifier and OCSP key hash). */
  key_id: Buffer;
  /** SHA-1 of the DER subject name (OCSP issuerNameHash). */
  name_sha1: Buffer;
  not_after: number;
  created_at: number;
  /** Number of the last CRL issued. */
  crl_number: number;
}

export interface CertificateTable {
  /** Hex, lower case, no leading zeros beyond DER's. */
  serial: string;
  ca_name: string;
  profile: 'idevid' | 'ldevid' | 'tls-server' | 'ocsp-signer' | 'ca';
  device_id: string | null;
  tenant_id: string | null;
  subject: string;
  not_before: number;
  not_after: number;
  /** SHA-256 of the SubjectPublicKeyInfo DER: proof-of-possession reuse check. */
  spki_sha256: Buffer;
  der: Buffer;
  status: 'valid' | 'revoked' | 'superseded';
  revoked_at: number | null;
  /** RFC 5280 CRLReason code (0-10). */
  revocation_reason: number | null;
  superseded_by: string | null;
  created_at: number;
}

export interface EnrollTokenTable {
  /** The HTTP Basic username. */
  username: string;
  device_id: string;
  /** scrypt hash of the password with its salt. */
  password_hash: Buffer;
  salt: Buffer;
  expires_at: number;
  used_at: number | null;
  created_at: number;
  created_by: string;
}

export interface ProvisioningBatchTable {
  id: string;
  model: string;
  hardware_revision: string;
  count: number;
  /** JSON array of serial numbers. */
  serials: string;
  mode: 'generated-keys' | 'csr';
  created_by: string;
  created_at: number;
}

export interface PkiTables {
  ca: CaTable;
  certificate: CertificateTable;
  enroll_token: EnrollTokenTable;
  provisioning_batch: ProvisioningBatchTable;
}
