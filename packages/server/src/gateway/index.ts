export { gatewayErrors, GatewayError } from './errors.ts';
export type { GatewayErrorCode } from './errors.ts';
