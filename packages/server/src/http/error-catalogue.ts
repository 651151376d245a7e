import { commandErrors, coreErrors, type ErrorSpec } from '@medtrust/core';
// Each domain's errors.ts directly, not its index.ts: the index files export routes, which
// import http/, so going through them would make import cycles (checked by `npm run cycles`).
import { accessErrors } from '../access/errors.ts';
import { auditErrors } from '../audit/errors.ts';
import { backupErrors } from '../backup/errors.ts';
import { clinicalErrors } from '../clinical/errors.ts';
import { fhirErrors } from '../fhir/errors.ts';
import { gatewayErrors } from '../gateway/errors.ts';
import { patientErrors } from '../patients/errors.ts';
import { pkiErrors } from '../pki/errors.ts';
import { policyErrors } from '../policy/errors.ts';
import { telemetryErrors } from '../telemetry/errors.ts';
import { updateErrors } from '../updates/errors.ts';
import { vulnErrors } from '../vulns/errors.ts';

/**
 * Every error code the platform answers with, its HTTP status and its docs line.
 * docs/errors.md is checked against this table by a test.
 */
export const errorCatalogue: Readonly<Record<string, ErrorSpec>> = Object.freeze({
  ...coreErrors,
  ...commandErrors,
  ...accessErrors,
  ...backupErrors,
  ...auditErrors,
  ...clinicalErrors,
  ...fhirErrors,
  ...patientErrors,
  ...pkiErrors,
  ...gatewayErrors,
  ...telemetryErrors,
  ...updateErrors,
  ...vulnErrors,
  ...policyErrors,
});

export function statusOf(code: string): number {
  return errorCatalogue[code]?.status ?? 500;
}
