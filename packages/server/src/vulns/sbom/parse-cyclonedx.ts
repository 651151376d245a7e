import * as CDX from '@cyclonedx/cyclonedx-library';
import { VulnError } from '../errors.ts';
import { parsePurl } from '../match/package-key.ts';
import { parseCpe23 } from '../match/cpe-name.ts';
import { parseSupportDate, type SbomComponent, type SbomDocument } from './sbom-document.ts';

const SPECS: Readonly<Record<string, CDX.Spec.Version>> = { '1.4': CDX.Spec.Version.v1dot4, '1.5': CDX.Spec.Version.v1dot5, '1.6': CDX.Spec.Version.v1dot6 };

// FDA premarket cybersecurity guidance asks for support level and end-of-support per component.
// CycloneDX has no field for them; these are the property names seen in the wild, compared
// after lower-casing and dropping a namespace prefix and non-letters (docs/vulnerabilities.md).
const SUPPORT_LEVEL_NAMES = new Set(['supportlevel', 'levelofsupport', 'supportstatus']);
const END_OF_SUPPORT_NAMES = new Set(['endofsupport', 'endofsupportdate', 'supportenddate', 'endoflife', 'eol', 'eos']);

const normName = (n: string): string => n.toLowerCase().replace(/^[a-z0-9-]+:/, '').replace(/[^a-z]/g, '');

interface RawComponent {
  'bom-ref'?: string;
  type?: string;
  name: string;
  version?: string;
  purl?: string;
  cpe?: string;
  supplier?: { name?: string };
  publisher?: string;
  author?: string;
  properties?: Array<{ name: string; value?: string }>;
  components?: RawComponent[];
}

function toComponent(c: RawComponent, index: number): SbomComponent {
  const purl = c.purl ? parsePurl(c.purl) : undefined;
  const cpe = c.cpe && parseCpe23(c.cpe) ? c.cpe : null;
  let supportLevel: string | null = null;
  let endOfSupport: string | null = null;
  for (const p of c.properties ?? []) {
    const n = normName(p.name);
    if (SUPPORT_LEVEL_NAMES.has(n)) supportLevel ??= p.value ?? null;
    else if (END_OF_SUPPORT_NAMES.has(n)) endOfSupport ??= p.value ?? null;
  }
  const cpeVersion = cpe ? parseCpe23(cpe)?.version : undefined;
  const version = c.version || purl?.version || (cpeVersion && cpeVersion !== '*' && cpeVersion !== '-' ? cpeVersion : null) || null;
  return {
    ref: c['bom-ref'] ?? `component-${index}`, type: c.type ?? null, name: c.name, version,
    purl: purl ? purl.toString() : null, cpe, supplier: c.supplier?.name ?? c.publisher ?? c.author ?? null,
    supportLevel, endOfSupport, endOfSupportAtMs: parseSupportDate(endOfSupport),
  };
}

/** Validates CycloneDX 1.4-1.6 JSON with the CycloneDX library's JSON schema validator. */
export async function parseCycloneDx(doc: Record<string, unknown>, text: string): Promise<SbomDocument> {
  const specVersion = String(doc.specVersion);
  const spec = SPECS[specVersion];
  if (!spec) throw new VulnError('SBOM_FORMAT_UNKNOWN', `CycloneDX ${specVersion} is not supported`, { details: { specVersion } });
  const errors: unknown = await new CDX.Validation.JsonStrictValidator(spec).validate(text);
  if (errors !== null) {
    const list = (Array.isArray(errors) ? errors : [errors]) as Array<{ instancePath?: string; message?: string }>;
    const reasons = list.slice(0, 50).map((e) => `${e.instancePath || '/'} ${e.message ?? 'invalid'}`);
    throw new VulnError('SBOM_INVALID', `CycloneDX ${specVersion} validation failed (${list.length} findings)`, { details: { reasons } });
  }
  const flat: RawComponent[] = [];
  const walk = (cs: RawComponent[] | undefined): void => {
    for (const c of cs ?? []) {
      flat.push(c);
      walk(c.components);
    }
  };
  walk(doc.components as RawComponent[] | undefined);
  const meta = doc.metadata as { component?: { name?: string; version?: string } } | undefined;
  const name = meta?.component?.name ? `${meta.component.name}${meta.component.version ? ` ${meta.component.version}` : ''}` : null;
  return { format: 'cyclonedx', specVersion, name, components: flat.map(toComponent) };
}
