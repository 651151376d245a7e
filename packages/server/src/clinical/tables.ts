export interface AlertRuleTable {
  id: string;
  tenant_id: string;
  name: string;
  priority: 'high' | 'medium' | 'low';
  enabled: number;
  /** JSON: { patientId?, careArea? } */
  scope: string;
  /** JSON AlertCondition. */
  condition: string;
  escalate_after_ms: number;
  /** JSON array of roles. */
  escalation_roles: string;
  version: number;
  updated_at: number;
  updated_by: string;
}

export interface AlertTable {
  id: string;
  tenant_id: string;
  rule_id: string;
  device_id: string | null;
  patient_id: string | null;
  priority: 'high' | 'medium' | 'low';
  state: 'raised' | 'acknowledged' | 'resolved';
  /** Rule + subject: while an alert with this key is open, repeats are folded into it. */
  dedupe_key: string;
  /** Device time of the sample that raised it. */
  raised_at: number;
  /** Platform time the raising message was received (alert latency starts here). */
  received_at: number;
  repeat_count: number;
  acknowledged_at: number | null;
  acknowledged_by: string | null;
  resolved_at: number | null;
  resolved_by: string | null;
  condition_cleared_at: number | null;
  escalation_level: number;
  escalated_at: number | null;
  /** JSON: the values and rule that raised it. */
  details: string;
}

export interface WebhookEndpointTable {
  id: string;
  tenant_id: string;
  url: string;
  /** HMAC secret, AES-256-GCM encrypted (iv | tag | ciphertext). */
  secret_enc: Buffer;
  enabled: number;
  created_at: number;
}

export interface WebhookDeliveryTable {
  id: string;
  endpoint_id: string;
  alert_id: string;
  /** JSON body sent, byte for byte (the signature covers it). */
  body: string;
  attempts: number;
  next_attempt_at: number;
  status: 'pending' | 'delivered' | 'dead';
  last_error: string | null;
  created_at: number;
  delivered_at: number | null;
}

export interface DrugLibraryTable {
  tenant_id: string;
  version: number;
  /** JSON array of DrugEntry. */
  entries: string;
  imported_at: number;
  imported_by: string;
  /** SHA-256 of the imported file, hex. */
  source_sha256: string;
}

export interface DeviceCommandTable {
  id: string;
  tenant_id: string;
  device_id: string;
  kind: string;
  /** JSON of the command as requested. */
  request: string;
  care_area: string | null;
  requested_by: string;
  override_reason: string | null;
  confirm_rate_jump: number;
  second_approver: string | null;
  /** pending-approval -> issued -> acknowledged -> executed | failed, or issued -> rejected (by the device); refused never leaves the platform. */
  status: 'refused' | 'pending-approval' | 'issued' | 'acknowledged' | 'executed' | 'failed' | 'rejected' | 'expired';
  refusal_code: string | null;
  /** JSON Finding[]. */
  findings: string;
  drug_library_version: number | null;
  /** JSON SignedCommand as sent. */
  signed: string | null;
  nonce: string | null;
  issued_at: number | null;
  expires_at: number | null;
  acked_at: number | null;
  /** Device's answer: accepted, or the code it refused with. */
  ack_detail: string | null;
  created_at: number;
}

export interface ClinicalTables {
  drug_library: DrugLibraryTable;
  device_command: DeviceCommandTable;
  alert_rule: AlertRuleTable;
  alert: AlertTable;
  webhook_endpoint: WebhookEndpointTable;
  webhook_delivery: WebhookDeliveryTable;
}
