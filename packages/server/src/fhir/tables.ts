export interface FhirEndpointTable {
  tenant_id: string;
  /** FHIR server base URL; transaction Bundles are POSTed to it. */
  base_url: string;
  /** Authorization header value, AES-256-GCM sealed (iv | tag | ct), or null. */
  auth_enc: Buffer | null;
  /** telemetry_message.seq up to which everything was pushed. */
  cursor_seq: number;
  enabled: number;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  last_success_at: number | null;
  updated_at: number;
}

export interface FhirTables {
  fhir_endpoint: FhirEndpointTable;
}
