import { defineErrors, MedTrustError } from '@medtrust/core';

export const patientErrors = defineErrors({
  PATIENT_NOT_FOUND: { status: 404, meaning: 'No patient with that id (or MRN) in your tenant.', fix: 'Check the id; patients are visible only within their hospital.' },
  PATIENT_INVALID: { status: 400, meaning: 'Patient fields are missing or malformed (MRN, family name, birth date YYYY-MM-DD).', fix: 'Correct the fields named and send again.' },
  PATIENT_EXISTS: { status: 409, meaning: 'A patient with that MRN already exists in your tenant.', fix: 'Look the patient up by MRN instead of creating it again.' },
  BINDING_CONFLICT: { status: 409, meaning: 'The device is already bound to a patient for an overlapping time, or the time range is invalid.', fix: 'End the current binding first (POST /api/v1/bindings/{id}/end).' },
  PHI_KEY_UNAVAILABLE: { status: 503, meaning: 'The key that seals patient fields cannot be read (master key or key store).', fix: 'Start the platform with the master key used when the data dir was created.' },
});

export type PatientErrorCode = keyof typeof patientErrors;
export class PatientError extends MedTrustError<PatientErrorCode> {}
