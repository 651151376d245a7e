export { EnrollTokenService } from './enroll-token-service.ts';
export type { CreatedEnrollToken, ConsumedEnrollToken } from './enroll-token-service.ts';
