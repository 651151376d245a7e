export { compareGeneric, compareSemver } from './compare-versions.ts';
export type { VersionComparator } from './compare-versions.ts';
export { compareDpkg } from './compare-dpkg.ts';
export { compareApk } from './compare-apk.ts';
export { comparatorFor } from './comparator-for.ts';
export type { EcosystemOrdering } from './comparator-for.ts';
