/** A component as MedTrust keeps it from an SBOM. */
export interface SbomComponent {
  readonly ref: string;
  readonly type: string | null;
  readonly name: string;
  readonly version: string | null;
  /** Canonical purl string (packageurl-js), or null. */
  readonly purl: string | null;
  readonly cpe: string | null;
  readonly supplier: string | null;
  readonly supportLevel: string | null;
  readonly endOfSupport: string | null;
  readonly endOfSupportAtMs: number | null;
}

/** A validated SBOM reduced to what vigilance needs. */
export interface SbomDocument {
  readonly format: 'cyclonedx' | 'spdx';
  readonly specVersion: string;
  readonly name: string | null;
  readonly components: readonly SbomComponent[];
}

/** A date-like end of support ("2030-12-31", "2030-12") as epoch ms; phrases give null. */
export function parseSupportDate(s: string | null): number | null {
  if (!s) return null;
  const m = /^(\d{4})-(\d{2})(?:-(\d{2}))?/.exec(s.trim());
  if (!m) return null;
  const ms = Date.parse(`${m[1]}-${m[2]}-${m[3] ?? '01'}T00:00:00Z`);
  return Number.isFinite(ms) ? ms : null;
}
