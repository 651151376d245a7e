export { EnrollTokenService } from './enroll-token-service.ts';
export type { CreatedEnrollToken, ConsumedEnrollToken, TenantScope } from './enroll-token-service.ts';
export { enrollTokenRoutes } from './enroll-token-routes.ts';
