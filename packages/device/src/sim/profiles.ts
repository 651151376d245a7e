/** The device classes the simulator builds. */
export type SimDeviceKind = 'infusion-pump' | 'patient-monitor' | 'glucose-monitor';

export type SimProfileName = 'icu' | 'ward' | 'home';
export const SIM_PROFILES: readonly SimProfileName[] = ['icu', 'ward', 'home'];

/** A care setting: which devices, how often they report, how often things go wrong (per device-hour). */
export interface SimProfile {
  readonly name: SimProfileName;
  /** Device classes in rotation: device i gets `mix[i % mix.length]`. */
  readonly mix: readonly SimDeviceKind[];
  readonly reportIntervalMs: Readonly<Record<SimDeviceKind, number>>;
  readonly healthIntervalMs: number;
  readonly nibpIntervalMs: number;
  readonly ratesPerHour: {
    readonly desaturation: number;
    readonly bradycardia: number;
    readonly hypoglycaemia: number;
    readonly occlusion: number;
    readonly fault: number;
    readonly outage: number;
  };
  /** Mains power keeps the battery charged; at home it drains. */
  readonly onMains: boolean;
  /** Baseline of the simulated patients. */
  readonly patient: { readonly heartRate: number; readonly spo2: number; readonly respiratoryRate: number; readonly systolic: number; readonly glucose: number };
}

export const DEVICE_MODELS: Readonly<Record<SimDeviceKind, { readonly model: string; readonly firmwareVersion: string }>> = {
  'infusion-pump': { model: 'InfuSim-P300', firmwareVersion: '3.2.1' },
  'patient-monitor': { model: 'VitaSim-M5', firmwareVersion: '5.0.4' },
  'glucose-monitor': { model: 'GlucoSim-G2', firmwareVersion: '2.1.0' },
};

const profiles: Readonly<Record<SimProfileName, SimProfile>> = {
  icu: {
    name: 'icu', mix: ['patient-monitor', 'infusion-pump', 'infusion-pump', 'patient-monitor', 'infusion-pump', 'glucose-monitor'],
    reportIntervalMs: { 'patient-monitor': 5_000, 'infusion-pump': 10_000, 'glucose-monitor': 60_000 },
    healthIntervalMs: 60_000, nibpIntervalMs: 5 * 60_000,
    ratesPerHour: { desaturation: 1, bradycardia: 0.3, hypoglycaemia: 0.05, occlusion: 0.4, fault: 0.1, outage: 0.2 },
    onMains: true, patient: { heartRate: 92, spo2: 95, respiratoryRate: 20, systolic: 112, glucose: 140 },
  },
  ward: {
    name: 'ward', mix: ['patient-monitor', 'infusion-pump', 'glucose-monitor', 'patient-monitor'],
    reportIntervalMs: { 'patient-monitor': 15_000, 'infusion-pump': 15_000, 'glucose-monitor': 60_000 },
    healthIntervalMs: 60_000, nibpIntervalMs: 15 * 60_000,
    ratesPerHour: { desaturation: 0.3, bradycardia: 0.1, hypoglycaemia: 0.05, occlusion: 0.2, fault: 0.1, outage: 0.3 },
    onMains: true, patient: { heartRate: 78, spo2: 97, respiratoryRate: 16, systolic: 124, glucose: 120 },
  },
  home: {
    name: 'home', mix: ['glucose-monitor', 'patient-monitor', 'glucose-monitor', 'infusion-pump'],
    reportIntervalMs: { 'patient-monitor': 30_000, 'infusion-pump': 30_000, 'glucose-monitor': 60_000 },
    healthIntervalMs: 5 * 60_000, nibpIntervalMs: 60 * 60_000,
    ratesPerHour: { desaturation: 0.1, bradycardia: 0.05, hypoglycaemia: 0.3, occlusion: 0.1, fault: 0.2, outage: 1 },
    onMains: false, patient: { heartRate: 72, spo2: 97, respiratoryRate: 14, systolic: 130, glucose: 135 },
  },
};

export function simProfile(name: SimProfileName): SimProfile {
  return profiles[name];
}

export function isSimProfileName(v: string): v is SimProfileName {
  return (SIM_PROFILES as readonly string[]).includes(v);
}

/** The device class the profile's rotation gives device `index`. */
export function kindAt(profile: SimProfile, index: number): SimDeviceKind {
  const kind = profile.mix[index % profile.mix.length];
  if (kind === undefined) throw new RangeError(`profile ${profile.name} has no device classes`);
  return kind;
}
