/** IEC 60601-1-8 alarm priorities. */
export type AlertPriority = 'high' | 'medium' | 'low';

export type VitalMetric = 'heart-rate' | 'spo2' | 'body-temperature' | 'nibp-systolic' | 'nibp-diastolic' | 'respiratory-rate' | 'glucose';

/** What a rule watches. Rules are data: stored, edited through the API, evaluated here. */
export type AlertCondition =
  | {
      readonly kind: 'threshold';
      readonly metric: VitalMetric;
      readonly op: '<' | '>';
      readonly value: number;
      /** The breach must last this long before the alert is raised (0 = at once). */
      readonly forMs: number;
      /** The value must come back past threshold by this much to clear (no flapping). */
      readonly hysteresis: number;
    }
  | { readonly kind: 'device-alarm'; readonly alarm: DeviceAlarm }
  | { readonly kind: 'no-heartbeat'; readonly intervals: number }
  | { readonly kind: 'security'; readonly event: SecurityEventKind };

export type DeviceAlarm = 'occlusion' | 'air-in-line' | 'door-open' | 'battery-critical' | 'low-battery' | 'sensor-fault' | 'infusion-complete';
export type SecurityEventKind = 'revoked-certificate-used' | 'topic-violation' | 'auth-failure-burst' | 'cloned-certificate' | 'message-rate-anomaly' | 'unusual-command-time' | 'security-advisory' | 'unexpected-network';

export interface AlertRule {
  readonly id: string;
  readonly tenantId: string;
  readonly name: string;
  readonly priority: AlertPriority;
  readonly enabled: boolean;
  /** Narrowest scope wins when several rules watch the same metric: patient, then care area, then tenant default. */
  readonly scope: { readonly patientId?: string; readonly careArea?: string };
  readonly condition: AlertCondition;
  /** Escalate to the next role when not acknowledged within this time. */
  readonly escalateAfterMs: number;
  /** Roles notified, in escalation order (e.g. clinician, then charge nurse / hospital-admin). */
  readonly escalationRoles: readonly string[];
}

/** Defaults a new care area starts with (adult ICU values; editable per patient or area). */
export const DEFAULT_THRESHOLD_RULES: ReadonlyArray<Pick<AlertRule, 'name' | 'priority' | 'condition'>> = [
  { name: 'Bradycardia', priority: 'high', condition: { kind: 'threshold', metric: 'heart-rate', op: '<', value: 40, forMs: 10_000, hysteresis: 5 } },
  { name: 'Tachycardia', priority: 'medium', condition: { kind: 'threshold', metric: 'heart-rate', op: '>', value: 140, forMs: 10_000, hysteresis: 5 } },
  { name: 'Desaturation', priority: 'high', condition: { kind: 'threshold', metric: 'spo2', op: '<', value: 90, forMs: 30_000, hysteresis: 2 } },
  { name: 'Hypoglycaemia', priority: 'high', condition: { kind: 'threshold', metric: 'glucose', op: '<', value: 70, forMs: 0, hysteresis: 10 } },
  { name: 'Occlusion', priority: 'high', condition: { kind: 'device-alarm', alarm: 'occlusion' } },
  { name: 'Air in line', priority: 'high', condition: { kind: 'device-alarm', alarm: 'air-in-line' } },
  { name: 'Battery critical', priority: 'medium', condition: { kind: 'device-alarm', alarm: 'battery-critical' } },
  { name: 'Sensor fault', priority: 'medium', condition: { kind: 'device-alarm', alarm: 'sensor-fault' } },
  { name: 'Device silent', priority: 'medium', condition: { kind: 'no-heartbeat', intervals: 3 } },
  { name: 'Revoked certificate used', priority: 'high', condition: { kind: 'security', event: 'revoked-certificate-used' } },
  { name: 'Topic violation', priority: 'medium', condition: { kind: 'security', event: 'topic-violation' } },
];
