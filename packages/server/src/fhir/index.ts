export { toObservation, toDevice, toDeviceMetric, toPatient, fhirId, platformId } from './fhir-resources.ts';
export type { VitalSample, DeviceFacts } from './fhir-resources.ts';
export { VITAL_CODES, BP_COMPONENTS, vitalKindOfCode, LOINC, MDC, UCUM } from './vital-codes.ts';
export type { VitalKind, Coding } from './vital-codes.ts';
export { fhirSchemaErrors } from './fhir-schema.ts';
export { ObservationSource, observationId, parseObservationId, samplesOfMessage } from './observation-source.ts';
export { fhirRoutes } from './fhir-routes.ts';
export type { FhirRoutesOptions } from './fhir-routes.ts';
