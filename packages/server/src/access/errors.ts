import { defineErrors, MedTrustError } from '@medtrust/core';

export const accessErrors = defineErrors({
  TOKEN_INVALID: { status: 401, meaning: 'The bearer token is malformed, unknown, expired or revoked.', fix: 'Create a new token with `medtrust token create` and send it as `Authorization: Bearer <token>`.' },
  ROLE_UNKNOWN: { status: 400, meaning: 'The role named is not one of the platform roles.', fix: 'Use a role listed in docs/access.md.' },
  TENANT_UNKNOWN: { status: 404, meaning: 'No tenant with that id.', fix: 'List tenants and use an existing id.' },
});

export type AccessErrorCode = keyof typeof accessErrors;
export class AccessError extends MedTrustError<AccessErrorCode> {}
