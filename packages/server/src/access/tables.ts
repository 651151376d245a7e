import type { Generated } from 'kysely';

export interface TenantTable {
  id: string;
  /** `operator` runs the deployment; `customer` is a hospital organisation; `site` belongs to a customer. */
  kind: 'operator' | 'customer' | 'site';
  name: string;
  parent_id: string | null;
  /** IANA time zone of a site, for maintenance windows. */
  time_zone: string | null;
  created_at: number;
}

export interface ApiTokenTable {
  id: string;
  tenant_id: string;
  role: string;
  name: string;
  /** SHA-256 of the secret part; the secret is 256 random bits so a fast hash is enough. */
  secret_sha256: Buffer;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  last_used_at: number | null;
  created_by: string;
}

export interface AppUserTable {
  id: string;
  tenant_id: string;
  /** Lower-cased; unique across the deployment (login is by email alone). */
  email: string;
  role: string;
  /** `$scrypt$ln=..,r=..,p=..$<salt>$<hash>`: per-user salt and the cost it was made with. */
  password_hash: string;
  failed_attempts: number;
  /** While in the future, logins fail without checking the password. */
  locked_until: number | null;
  created_at: number;
  created_by: string;
  disabled_at: number | null;
}

export interface SessionTable {
  /** SHA-256 of the 256-bit random session id; the id itself lives only in the cookie. */
  id_sha256: Buffer;
  user_id: string;
  tenant_id: string;
  created_at: number;
  /** Absolute end of the session. */
  expires_at: number;
  /** With the idle timeout: the session ends when unused for that long. */
  last_seen_at: number;
  revoked_at: number | null;
}

/** A tenant's OpenID Connect identity provider for hospital single sign-on (docs/access.md). */
export interface OidcProviderTable {
  id: string;
  tenant_id: string;
  name: string;
  /** Issuer identifier; discovery at `<issuer>/.well-known/openid-configuration`. */
  issuer: string;
  client_id: string;
  /** AES-256-GCM (iv|tag|ct) under the `oidc-client-secrets` key, with the provider id as AAD. */
  client_secret_enc: Buffer;
  /** JSON array of lower-case email domains allowed to log in. */
  allowed_domains: string;
  /** ID-token claim whose values map to roles (string or array of strings); null: default role only. */
  role_claim: string | null;
  /** JSON object claim value -> role; the first value (in claim order) that maps wins. */
  role_map: string;
  default_role: string | null;
  enabled: number;
  created_at: number;
  updated_at: number;
  created_by: string;
}

/** Which IdP subject a user is; the same `sub` always lands on the same account. */
export interface OidcIdentityTable {
  provider_id: string;
  subject: string;
  user_id: string;
  created_at: number;
  last_login_at: number;
}

/** An authorization request in flight (10 minutes, single use). */
export interface OidcLoginTable {
  /** SHA-256 of the state; the state itself is in the browser's `mt_oidc` cookie and the IdP round trip. */
  state_sha256: Buffer;
  provider_id: string;
  nonce: string;
  code_verifier: string;
  created_at: number;
  expires_at: number;
}

export interface AccessTables {
  tenant: TenantTable;
  api_token: ApiTokenTable;
  app_user: AppUserTable;
  session: SessionTable;
  oidc_provider: OidcProviderTable;
  oidc_identity: OidcIdentityTable;
  oidc_login: OidcLoginTable;
}

export type { Generated };
