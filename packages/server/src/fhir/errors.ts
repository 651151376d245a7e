import { defineErrors, MedTrustError } from '@medtrust/core';

/** FHIR push configuration codes (the /fhir facade answers OperationOutcome instead). */
export const fhirErrors = defineErrors({
  FHIR_ENDPOINT_INVALID: { status: 400, meaning: 'The FHIR push base URL is not an https URL (http only to localhost) or carries credentials in the URL.', fix: 'Give the EHR\'s FHIR base URL over https; put credentials in `authorization`, where they are stored encrypted.' },
  FHIR_ENDPOINT_NOT_FOUND: { status: 404, meaning: 'Your tenant has no FHIR push endpoint configured.', fix: 'Configure one with PUT /api/v1/fhir-push.' },
});

export type FhirErrorCode = keyof typeof fhirErrors;
export class FhirError extends MedTrustError<FhirErrorCode> {}
