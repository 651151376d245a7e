/** Vitals the platform maps to FHIR, with their LOINC, IEEE 11073-10101 (MDC) and UCUM codes. */
export type VitalKind = 'heart-rate' | 'spo2' | 'body-temperature' | 'blood-pressure' | 'respiratory-rate' | 'glucose';

export interface Coding {
  readonly system: string;
  readonly code: string;
  readonly display: string;
}

export const LOINC = 'http://loinc.org';
export const MDC = 'urn:iso:std:iso:11073:10101';
export const UCUM = 'http://unitsofmeasure.org';

export interface VitalCodes {
  /** Codings of Observation.code: LOINC first (vital-signs profile), then others, then MDC. */
  readonly codings: readonly Coding[];
  readonly unit: { readonly code: string; readonly display: string };
  /** Observations in the FHIR vital-signs profile; glucose is a plain laboratory Observation. */
  readonly vitalSignsProfile: string | undefined;
}

const loinc = (code: string, display: string): Coding => ({ system: LOINC, code, display });
const mdc = (code: string, display: string): Coding => ({ system: MDC, code, display });

export const VITAL_CODES: { readonly [K in VitalKind]: VitalCodes } = {
  'heart-rate': { codings: [loinc('8867-4', 'Heart rate'), mdc('147842', 'MDC_ECG_HEART_RATE')], unit: { code: '/min', display: 'beats/minute' }, vitalSignsProfile: 'http://hl7.org/fhir/StructureDefinition/heartrate' },
  spo2: { codings: [loinc('2708-6', 'Oxygen saturation in Arterial blood'), loinc('59408-5', 'Oxygen saturation in Arterial blood by Pulse oximetry'), mdc('150456', 'MDC_PULS_OXIM_SAT_O2')], unit: { code: '%', display: '%' }, vitalSignsProfile: 'http://hl7.org/fhir/StructureDefinition/oxygensat' },
  'body-temperature': { codings: [loinc('8310-5', 'Body temperature'), mdc('150364', 'MDC_TEMP_BODY')], unit: { code: 'Cel', display: 'C' }, vitalSignsProfile: 'http://hl7.org/fhir/StructureDefinition/bodytemp' },
  'blood-pressure': { codings: [loinc('85354-9', 'Blood pressure panel with all children optional'), mdc('150020', 'MDC_PRESS_BLD_NONINV')], unit: { code: 'mm[Hg]', display: 'mmHg' }, vitalSignsProfile: 'http://hl7.org/fhir/StructureDefinition/bp' },
  'respiratory-rate': { codings: [loinc('9279-1', 'Respiratory rate'), mdc('151562', 'MDC_RESP_RATE')], unit: { code: '/min', display: 'breaths/minute' }, vitalSignsProfile: 'http://hl7.org/fhir/StructureDefinition/resprate' },
  glucose: { codings: [loinc('2339-0', 'Glucose [Mass/volume] in Blood'), mdc('160184', 'MDC_CONC_GLU_GEN')], unit: { code: 'mg/dL', display: 'mg/dL' }, vitalSignsProfile: undefined },
};

/** Blood pressure components (vital-signs profile): systolic, diastolic, and mean arterial. */
export const BP_COMPONENTS = {
  systolic: [loinc('8480-6', 'Systolic blood pressure'), mdc('150021', 'MDC_PRESS_BLD_NONINV_SYS')],
  diastolic: [loinc('8462-4', 'Diastolic blood pressure'), mdc('150022', 'MDC_PRESS_BLD_NONINV_DIA')],
  mean: [loinc('8478-0', 'Mean blood pressure'), mdc('150023', 'MDC_PRESS_BLD_NONINV_MEAN')],
} as const;

/** LOINC code -> vital kind, for `Observation?code=` searches (either system's code matches). */
export function vitalKindOfCode(code: string): VitalKind | undefined {
  const bare = code.includes('|') ? code.slice(code.indexOf('|') + 1) : code;
  for (const [kind, v] of Object.entries(VITAL_CODES) as Array<[VitalKind, VitalCodes]>) if (v.codings.some((c) => c.code === bare)) return kind;
  return undefined;
}
