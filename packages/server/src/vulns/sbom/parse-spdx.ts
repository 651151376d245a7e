import type { Ajv } from 'ajv';
import { VulnError } from '../errors.ts';
import { parseCpe23 } from '../match/cpe-name.ts';
import { parsePurl } from '../match/package-key.ts';
import { parseSupportDate, type SbomComponent, type SbomDocument } from './sbom-document.ts';

/**
 * The SPDX 2.3 JSON fields MedTrust reads, as a JSON schema checked with ajv. This is not the
 * full SPDX schema: it checks the document header SPDX 2.3 §6 requires and each package's
 * identity fields (§7.1-7.2, 7.5, 7.21 externalRefs, 7.29 validUntilDate); other fields pass.
 */
const SPDX_SCHEMA = {
  type: 'object',
  required: ['spdxVersion', 'SPDXID', 'name', 'dataLicense', 'documentNamespace', 'creationInfo'],
  properties: {
    spdxVersion: { const: 'SPDX-2.3' },
    SPDXID: { const: 'SPDXRef-DOCUMENT' },
    name: { type: 'string' },
    dataLicense: { type: 'string' },
    documentNamespace: { type: 'string', minLength: 1 },
    creationInfo: { type: 'object', required: ['created', 'creators'], properties: { created: { type: 'string' }, creators: { type: 'array', minItems: 1, items: { type: 'string' } } } },
    packages: {
      type: 'array',
      items: {
        type: 'object',
        required: ['SPDXID', 'name', 'downloadLocation'],
        properties: {
          SPDXID: { type: 'string', pattern: '^SPDXRef-[A-Za-z0-9.\\-]+$' },
          name: { type: 'string', minLength: 1 },
          versionInfo: { type: 'string' },
          supplier: { type: 'string' },
          downloadLocation: { type: 'string' },
          validUntilDate: { type: 'string' },
          externalRefs: {
            type: 'array',
            items: { type: 'object', required: ['referenceCategory', 'referenceType', 'referenceLocator'], properties: { referenceCategory: { type: 'string' }, referenceType: { type: 'string' }, referenceLocator: { type: 'string' } } },
          },
        },
      },
    },
  },
} as const;

interface SpdxPackage {
  SPDXID: string;
  name: string;
  versionInfo?: string;
  supplier?: string;
  validUntilDate?: string;
  externalRefs?: Array<{ referenceCategory: string; referenceType: string; referenceLocator: string }>;
}

/** SPDX supplier is "Organization: X" / "Person: X" or NOASSERTION (SPDX 2.3 §7.5). */
function supplierName(s: string | undefined): string | null {
  if (!s || s === 'NOASSERTION') return null;
  return s.replace(/^(Organization|Person|Tool):\s*/, '');
}

/** Validates and reads an SPDX 2.3 JSON document. */
export function parseSpdx(doc: Record<string, unknown>, ajv: Ajv): SbomDocument {
  const validate = ajv.compile(SPDX_SCHEMA);
  if (!validate(doc)) {
    const reasons = (validate.errors ?? []).slice(0, 50).map((e) => `${e.instancePath || '/'} ${e.message ?? 'invalid'}`);
    throw new VulnError('SBOM_INVALID', `SPDX 2.3 validation failed (${validate.errors?.length ?? 0} findings)`, { details: { reasons } });
  }
  const packages = (doc.packages as SpdxPackage[] | undefined) ?? [];
  const components = packages.map((p): SbomComponent => {
    const refs = p.externalRefs ?? [];
    const purlRef = refs.find((r) => r.referenceType === 'purl' && parsePurl(r.referenceLocator));
    const cpeRef = refs.find((r) => (r.referenceType === 'cpe23Type' || r.referenceType === 'cpe23') && parseCpe23(r.referenceLocator));
    const purl = purlRef ? parsePurl(purlRef.referenceLocator) : undefined;
    return {
      ref: p.SPDXID, type: null, name: p.name, version: p.versionInfo ?? purl?.version ?? null,
      purl: purl ? purl.toString() : null, cpe: cpeRef?.referenceLocator ?? null, supplier: supplierName(p.supplier),
      // SPDX has no support-level field; validUntilDate (§7.29) is the end of support.
      supportLevel: null, endOfSupport: p.validUntilDate ?? null, endOfSupportAtMs: parseSupportDate(p.validUntilDate ?? null),
    };
  });
  return { format: 'spdx', specVersion: '2.3', name: typeof doc.name === 'string' ? doc.name : null, components };
}
