export { parseSbom } from './parse-sbom.ts';
export { exportCycloneDx16 } from './export-cyclonedx.ts';
export type { SbomComponent, SbomDocument } from './sbom-document.ts';
