/** One saved version of a policy; the active one is the latest version, when it is enabled. */
export interface PolicyVersionTable {
  /** Stable across versions. */
  policy_id: string;
  version: number;
  tenant_id: string;
  name: string;
  /** 0/1. */
  enabled: number;
  /** The validated document as JSON. */
  document: string;
  created_at: number;
  created_by: string;
}

/** A rule that fired: what it saw, why, and what its actions did. */
export interface PolicyDecisionTable {
  id: string;
  /** Tenant of the subject (device), so hospitals see decisions about their devices. */
  tenant_id: string;
  /** `policy id`, or `anomaly:<detector>` for built-in anomaly detection. */
  policy_id: string;
  policy_version: number;
  policy_name: string;
  rule: string;
  /** `schedule`, an event kind, or a hook (`device.connect` ...). */
  trigger: string;
  device_id: string | null;
  /** JSON: the facts the rule saw. */
  facts: string;
  /** JSON array of lines: each test and its outcome. */
  reason: string;
  /** JSON array of { kind, outcome, detail }. */
  actions: string;
  /** Same policy, rule, subject and fact state: decided once (idempotency). */
  dedupe_key: string;
  decided_at: number;
}

/** When each scheduled policy last ran (once per cluster, through the job lease). */
export interface PolicyScheduleTable {
  policy_id: string;
  last_run_at: number;
}

/** Flags a policy set on a device for its agent and operators (re-enrol, update required). */
export interface PolicyDeviceFlagTable {
  device_id: string;
  flag: string;
  policy_id: string;
  set_at: number;
}

export interface PolicyTables {
  policy_version: PolicyVersionTable;
  policy_decision: PolicyDecisionTable;
  policy_schedule: PolicyScheduleTable;
  policy_device_flag: PolicyDeviceFlagTable;
}
