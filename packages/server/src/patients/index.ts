export { PatientService } from './patient-service.ts';
export type { Patient, PatientInput, Binding } from './patient-service.ts';
export { PhiCipher } from './phi-cipher.ts';
export { PatientError, patientErrors } from './errors.ts';
export type { PatientErrorCode } from './errors.ts';
export { patientMigrations } from './migrations.ts';
export type { PatientTables } from './tables.ts';
export { patientRoutes } from './patient-routes.ts';
