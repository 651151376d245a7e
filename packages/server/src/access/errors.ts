import { defineErrors, MedTrustError } from '@medtrust/core';

export const accessErrors = defineErrors({
  TOKEN_INVALID: { status: 401, meaning: 'The bearer token is malformed, unknown, expired or revoked.', fix: 'Create a new token with `medtrust token create` and send it as `Authorization: Bearer <token>`.' },
  ROLE_UNKNOWN: { status: 400, meaning: 'The role named is not one of the platform roles.', fix: 'Use a role listed in docs/access.md.' },
  TENANT_UNKNOWN: { status: 404, meaning: 'No tenant with that id.', fix: 'List tenants and use an existing id.' },
  TENANT_INVALID: { status: 400, meaning: 'The tenant fields are invalid: a site needs a customer parent, a customer has none, the name is empty or the time zone is not an IANA zone.', fix: 'Give a site `--parent <customer id>`, a 1-200 character name and a zone such as `Europe/Berlin`.' },
  ROLE_NOT_ALLOWED: { status: 403, meaning: 'The role cannot be given in that tenant (operator roles belong to the operator tenant, hospital roles to customers and sites).', fix: 'Pick a role listed for the tenant kind in docs/access.md.' },
  LOGIN_FAILED: { status: 401, meaning: 'The email and password do not match an active account (the answer is the same for an unknown email, a wrong password and a locked account).', fix: 'Check the email and password; after repeated failures wait for the lockout to end or ask an admin.' },
  USER_EXISTS: { status: 409, meaning: 'A user with that email already exists.', fix: 'Use another email, or manage the existing user.' },
  USER_NOT_FOUND: { status: 404, meaning: 'No user with that id in your tenant.', fix: 'List users and use an existing id.' },
  USER_INVALID: { status: 400, meaning: 'The email is malformed or the password is shorter than 12 characters (or longer than 1024).', fix: 'Use a valid email address and a password of at least 12 characters.' },
  TOKEN_NOT_FOUND: { status: 404, meaning: 'No active API token with that id in your tenant.', fix: 'List tokens and use an existing, unrevoked id.' },
  SSO_PROVIDER_NOT_FOUND: { status: 404, meaning: 'No single sign-on (OIDC) identity provider with that id in your tenant, or it is disabled (for login).', fix: 'List providers with `GET /api/v1/sso/providers` and use an enabled one.' },
  SSO_PROVIDER_INVALID: { status: 400, meaning: 'The identity provider settings are invalid: the issuer is not an https URL (http only on loopback), no allowed email domain, a malformed domain, or a role that does not exist or is not allowed in the tenant.', fix: 'Give an https issuer, at least one email domain, and roles listed for the tenant kind in docs/access.md.' },
  SSO_PROVIDER_UNAVAILABLE: { status: 502, meaning: 'The identity provider could not be reached or its discovery document is invalid.', fix: 'Check the issuer URL (`<issuer>/.well-known/openid-configuration` must answer) and the network path to it.' },
  SSO_LOGIN_FAILED: { status: 401, meaning: 'Single sign-on did not complete: the state or nonce did not match, the login expired, the identity provider refused, the ID token was invalid or from another issuer, or the email domain or role claim is not allowed (the audit log has the reason).', fix: 'Start the login again from the login link; if it persists, ask the tenant admin to check the provider settings and the audit log (`access.login.failed`).' },
});

export type AccessErrorCode = keyof typeof accessErrors;
export class AccessError extends MedTrustError<AccessErrorCode> {}
