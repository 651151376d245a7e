import type { Ajv } from 'ajv';
import { VulnError } from '../errors.ts';
import { parseCycloneDx } from './parse-cyclonedx.ts';
import { parseSpdx } from './parse-spdx.ts';
import type { SbomDocument } from './sbom-document.ts';

/** Detects CycloneDX or SPDX JSON, validates it and returns its components; throws SBOM_* codes. */
export async function parseSbom(text: string, ajv: Ajv): Promise<SbomDocument> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new VulnError('SBOM_INVALID', 'the SBOM is not JSON', { cause: e, details: { reasons: [e instanceof Error ? e.message : String(e)] } });
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new VulnError('SBOM_FORMAT_UNKNOWN', 'the SBOM is not a JSON object');
  const o = doc as Record<string, unknown>;
  if (o.bomFormat === 'CycloneDX') return parseCycloneDx(o, text);
  if (typeof o.spdxVersion === 'string') {
    if (o.spdxVersion !== 'SPDX-2.3') throw new VulnError('SBOM_FORMAT_UNKNOWN', `${o.spdxVersion} is not supported (SPDX-2.3 is)`);
    return parseSpdx(o, ajv);
  }
  throw new VulnError('SBOM_FORMAT_UNKNOWN', 'neither bomFormat "CycloneDX" nor spdxVersion found');
}
