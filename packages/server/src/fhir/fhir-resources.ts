import { VITAL_CODES, BP_COMPONENTS, UCUM, type VitalKind } from './vital-codes.ts';

/** A stored vital, as the telemetry store hands it to the FHIR mapper. */
export type VitalSample = {
  readonly id: string;
  readonly deviceId: string;
  readonly patientId: string | null;
  /** Device timestamp, ms. */
  readonly atMs: number;
} & (
  | { readonly kind: Exclude<VitalKind, 'blood-pressure'>; readonly value: number }
  | { readonly kind: 'blood-pressure'; readonly systolic: number; readonly diastolic: number; readonly mean?: number }
);

export interface DeviceFacts {
  readonly id: string;
  readonly serial: string;
  readonly model: string;
  readonly manufacturer: string;
  readonly firmwareVersion: string | null;
  /** UDI device identifier + production identifiers, as printed on the label (HRF), if known. */
  readonly udiCarrierHrf?: string;
  readonly udiDeviceIdentifier?: string;
  readonly state: string;
  readonly patientId?: string | null;
}

/**
 * FHIR ids allow only [A-Za-z0-9.-]: platform ids (`dev_7f3k...`) swap `_` for `-` (platform
 * ids never contain `-`, so the mapping is reversible).
 */
export function fhirId(id: string): string {
  return id.replace(/_/g, '-');
}

export function platformId(fhirIdValue: string): string {
  return fhirIdValue.replace(/-/g, '_');
}

const quantity = (value: number, kind: VitalKind) => ({ value, unit: VITAL_CODES[kind].unit.display, system: UCUM, code: VITAL_CODES[kind].unit.code });
const iso = (ms: number): string => new Date(ms).toISOString();

/** FHIR R4 Observation for one vital (vital-signs profile except glucose). */
export function toObservation(s: VitalSample): Record<string, unknown> {
  const codes = VITAL_CODES[s.kind];
  const base: Record<string, unknown> = {
    resourceType: 'Observation',
    id: fhirId(s.id),
    ...(codes.vitalSignsProfile ? { meta: { profile: ['http://hl7.org/fhir/StructureDefinition/vitalsigns', codes.vitalSignsProfile] } } : {}),
    status: 'final',
    category: [{ coding: [codes.vitalSignsProfile
      ? { system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs', display: 'Vital Signs' }
      : { system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory', display: 'Laboratory' }] }],
    code: { coding: codes.codings.map((c) => ({ ...c })), text: codes.codings[0]?.display },
    ...(s.patientId ? { subject: { reference: `Patient/${fhirId(s.patientId)}` } } : {}),
    effectiveDateTime: iso(s.atMs),
    device: { reference: `Device/${fhirId(s.deviceId)}` },
  };
  if (s.kind === 'blood-pressure') {
    const comp = (codings: readonly { system: string; code: string; display: string }[], v: number) => ({ code: { coding: codings.map((c) => ({ ...c })) }, valueQuantity: quantity(v, 'blood-pressure') });
    base.component = [comp(BP_COMPONENTS.systolic, s.systolic), comp(BP_COMPONENTS.diastolic, s.diastolic), ...(s.mean === undefined ? [] : [comp(BP_COMPONENTS.mean, s.mean)])];
  } else {
    base.valueQuantity = quantity(s.value, s.kind);
  }
  return base;
}

/** FHIR R4 Device: serial, model, firmware in `version`, UDI when known. */
export function toDevice(d: DeviceFacts): Record<string, unknown> {
  return {
    resourceType: 'Device',
    id: fhirId(d.id),
    identifier: [{ system: 'urn:medtrust:device-id', value: d.id }],
    ...(d.udiDeviceIdentifier || d.udiCarrierHrf ? { udiCarrier: [{ ...(d.udiDeviceIdentifier ? { deviceIdentifier: d.udiDeviceIdentifier } : {}), ...(d.udiCarrierHrf ? { carrierHRF: d.udiCarrierHrf } : {}) }] } : {}),
    status: d.state === 'decommissioned' ? 'inactive' : 'active',
    manufacturer: d.manufacturer,
    serialNumber: d.serial,
    modelNumber: d.model,
    deviceName: [{ name: d.model, type: 'model-name' }],
    ...(d.firmwareVersion ? { version: [{ type: { text: 'firmware' }, value: d.firmwareVersion }] } : {}),
    ...(d.patientId ? { patient: { reference: `Patient/${fhirId(d.patientId)}` } } : {}),
  };
}

/** FHIR R4 DeviceMetric for one vital a device measures. */
export function toDeviceMetric(deviceId: string, kind: VitalKind): Record<string, unknown> {
  const codes = VITAL_CODES[kind];
  return {
    resourceType: 'DeviceMetric',
    id: `${fhirId(deviceId)}.${kind}`,
    type: { coding: codes.codings.filter((c) => c.system.startsWith('urn:iso')).map((c) => ({ ...c })) },
    unit: { coding: [{ system: UCUM, code: codes.unit.code, display: codes.unit.display }] },
    source: { reference: `Device/${fhirId(deviceId)}` },
    operationalStatus: 'on',
    category: 'measurement',
  };
}

/** Minimal FHIR R4 Patient from a binding: identifier (MRN), name, birth date. PHI: audited by the caller. */
export function toPatient(p: { id: string; mrn: string; mrnSystem: string; family: string; given: readonly string[]; birthDate: string }): Record<string, unknown> {
  return {
    resourceType: 'Patient',
    id: fhirId(p.id),
    identifier: [{ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] }, system: p.mrnSystem, value: p.mrn }],
    name: [{ family: p.family, given: [...p.given] }],
    birthDate: p.birthDate,
  };
}
