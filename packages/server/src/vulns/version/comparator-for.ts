import { compareApk } from './compare-apk.ts';
import { compareDpkg } from './compare-dpkg.ts';
import { compareGeneric, compareSemver, type VersionComparator } from './compare-versions.ts';

/** How ordering is known for an ecosystem: `exact` when implemented, `approximate` otherwise. */
export interface EcosystemOrdering {
  readonly compare: VersionComparator;
  readonly exact: boolean;
}

const SEMVER_ECOSYSTEMS = new Set(['npm', 'crates.io', 'Go', 'Hex', 'Pub', 'SwiftURL', 'Packagist', 'NuGet']);

/** The version order of an OSV ecosystem ("Alpine:v3.18" -> apk, "Debian:12" -> dpkg, ...). */
export function comparatorFor(ecosystem: string): EcosystemOrdering {
  const base = ecosystem.split(':')[0] ?? ecosystem;
  if (base === 'Alpine') return { compare: compareApk, exact: true };
  if (base === 'Debian' || base === 'Ubuntu') return { compare: compareDpkg, exact: true };
  if (SEMVER_ECOSYSTEMS.has(base)) return { compare: compareSemver, exact: true };
  return { compare: compareGeneric, exact: false };
}
