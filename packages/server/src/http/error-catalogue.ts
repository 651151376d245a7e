import { commandErrors, coreErrors, type ErrorSpec } from '@medtrust/core';
import { accessErrors } from '../access/index.ts';
import { clinicalErrors } from '../clinical/index.ts';
import { pkiErrors } from '../pki/index.ts';

/**
 * Every error code the platform answers with, its HTTP status and its docs line.
 * docs/errors.md is checked against this table by a test.
 */
export const errorCatalogue: Readonly<Record<string, ErrorSpec>> = Object.freeze({
  ...coreErrors,
  ...commandErrors,
  ...accessErrors,
  ...clinicalErrors,
  ...pkiErrors,
});

export function statusOf(code: string): number {
  return errorCatalogue[code]?.status ?? 500;
}
