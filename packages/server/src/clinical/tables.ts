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

export interface ClinicalTables {
  alert_rule: AlertRuleTable;
  alert: AlertTable;
  webhook_endpoint: WebhookEndpointTable;
  webhook_delivery: WebhookDeliveryTable;
}
