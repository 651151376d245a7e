/** Version 1 of the device message protocol (docs/device-protocol.md). */
export const PROTOCOL_VERSION = 1;

export interface Measured<U extends string> {
  readonly value: number;
  readonly unit: U;
}

export interface Vitals {
  readonly heartRate?: Measured<'/min'>;
  readonly spo2?: Measured<'%'>;
  readonly bodyTemperature?: Measured<'Cel'>;
  readonly nibp?: { readonly systolic: number; readonly diastolic: number; readonly mean?: number; readonly unit: 'mm[Hg]' };
  readonly respiratoryRate?: Measured<'/min'>;
  readonly glucose?: Measured<'mg/dL'>;
}

export const INFUSION_STATES = ['idle', 'infusing', 'paused', 'alarm'] as const;
export const INFUSION_ALARMS = ['occlusion', 'air-in-line', 'door-open', 'low-battery', 'empty-container', 'upstream-occlusion', 'downstream-occlusion', 'infusion-complete', 'system-error'] as const;

export interface InfusionStatus {
  readonly drug: string;
  readonly concentration: { readonly value: number; readonly unit: 'mg/mL' | 'ug/mL' | 'ng/mL' | '[iU]/mL' | 'mmol/L' | 'mEq/mL' };
  readonly rateMlPerH: number;
  readonly vtbiMl: number;
  readonly volumeInfusedMl: number;
  readonly state: (typeof INFUSION_STATES)[number];
  readonly alarms: readonly (typeof INFUSION_ALARMS)[number][];
}

export interface DeviceHealth {
  readonly batteryPct: number;
  readonly firmwareVersion: string;
  readonly uptimeS: number;
  readonly errorCodes: readonly string[];
}

interface Envelope {
  readonly v: 1;
  /** Unique per device; a repeat is stored once. */
  readonly id: string;
  /** Device clock, milliseconds since the epoch, when the reading was taken. */
  readonly ts: number;
}

/** A validated device message: one of three kinds, discriminated by `kind`. */
export type DeviceMessage =
  | (Envelope & { readonly kind: 'vitals'; readonly vitals: Vitals })
  | (Envelope & { readonly kind: 'infusion'; readonly infusion: InfusionStatus })
  | (Envelope & { readonly kind: 'health'; readonly health: DeviceHealth });

export type DeviceMessageKind = DeviceMessage['kind'];

/** Numeric series derived from messages; the query API serves these. */
export const METRICS = [
  'heart_rate', 'spo2', 'body_temperature', 'nibp_systolic', 'nibp_diastolic', 'nibp_mean', 'respiratory_rate', 'glucose',
  'infusion_rate_ml_h', 'infusion_volume_infused_ml', 'battery_pct',
] as const;
export type Metric = (typeof METRICS)[number];

export interface Sample {
  readonly metric: Metric;
  readonly value: number;
}

/** The numeric samples a message contributes to the time series. */
export function samplesOf(m: DeviceMessage): Sample[] {
  const out: Sample[] = [];
  switch (m.kind) {
    case 'vitals': {
      const v = m.vitals;
      if (v.heartRate) out.push({ metric: 'heart_rate', value: v.heartRate.value });
      if (v.spo2) out.push({ metric: 'spo2', value: v.spo2.value });
      if (v.bodyTemperature) out.push({ metric: 'body_temperature', value: v.bodyTemperature.value });
      if (v.nibp) {
        out.push({ metric: 'nibp_systolic', value: v.nibp.systolic }, { metric: 'nibp_diastolic', value: v.nibp.diastolic });
        if (v.nibp.mean !== undefined) out.push({ metric: 'nibp_mean', value: v.nibp.mean });
      }
      if (v.respiratoryRate) out.push({ metric: 'respiratory_rate', value: v.respiratoryRate.value });
      if (v.glucose) out.push({ metric: 'glucose', value: v.glucose.value });
      return out;
    }
    case 'infusion':
      out.push({ metric: 'infusion_rate_ml_h', value: m.infusion.rateMlPerH }, { metric: 'infusion_volume_infused_ml', value: m.infusion.volumeInfusedMl });
      return out;
    case 'health':
      out.push({ metric: 'battery_pct', value: m.health.batteryPct });
      return out;
    default:
      return m satisfies never;
  }
}
