export { CrlService, isCaName } from './crl-service.ts';
export type { CurrentCrl } from './crl-service.ts';
export { buildCrl } from './crl-builder.ts';
export type { CrlInput } from './crl-builder.ts';
