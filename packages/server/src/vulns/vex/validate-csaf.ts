import * as mandatory from '@secvisogram/csaf-validator-lib/mandatoryTests.js';
import { csaf_2_0_strict } from '@secvisogram/csaf-validator-lib/schemaTests.js';
import validateStrict from '@secvisogram/csaf-validator-lib/validateStrict.js';

/**
 * CSAF 2.0 strict schema plus every mandatory test (§6.1), in csaf-validator-lib's strict mode.
 * Returns the findings; empty means the document may be published.
 */
export async function validateCsaf(doc: unknown): Promise<string[]> {
  const result = await validateStrict([csaf_2_0_strict, ...Object.values(mandatory)], doc);
  return result.tests.flatMap((t) => t.errors.map((e) => `${t.name} ${e.instancePath || '/'} ${e.message}`));
}
