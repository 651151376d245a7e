import { commandErrors, coreErrors, type ErrorSpec } from '@medtrust/core';
// errors.ts directly: access/ and audit/ export routes that import http, which would make a cycle.
import { accessErrors } from '../access/errors.ts';
import { auditErrors } from '../audit/errors.ts';
import { clinicalErrors } from '../clinical/index.ts';
import { gatewayErrors } from '../gateway/index.ts';
import { patientErrors } from '../patients/index.ts';
import { pkiErrors } from '../pki/index.ts';
// errors.ts directly: policy/index.ts imports http (routes), which would make a cycle.
import { policyErrors } from '../policy/errors.ts';
import { telemetryErrors } from '../telemetry/index.ts';
// errors.ts directly: updates/index.ts imports http (routes), which would make a cycle.
import { updateErrors } from '../updates/errors.ts';
// errors.ts directly: vulns/index.ts imports http (routes), which would make a cycle.
import { vulnErrors } from '../vulns/errors.ts';

/**
 * Every error code the platform answers with, its HTTP status and its docs line.
 * docs/errors.md is checked against this table by a test.
 */
export const errorCatalogue: Readonly<Record<string, ErrorSpec>> = Object.freeze({
  ...coreErrors,
  ...commandErrors,
  ...accessErrors,
  ...auditErrors,
  ...clinicalErrors,
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
