export { MedTrustError, defineErrors, isMedTrustError } from './errors/medtrust-error.ts';
export type { ErrorSpec, ErrorCatalogue, MedTrustErrorOptions } from './errors/medtrust-error.ts';
export { coreErrors, CoreError } from './errors/core-errors.ts';
export type { CoreErrorCode } from './errors/core-errors.ts';
export { systemClock, ManualClock } from './clock.ts';
export type { Clock } from './clock.ts';
export { newId } from './ids.ts';
export { canonicalJson } from './json/canonical-json.ts';
export { stableJson } from './json/stable-json.ts';
