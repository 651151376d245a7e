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

export interface AccessTables {
  tenant: TenantTable;
  api_token: ApiTokenTable;
  app_user: AppUserTable;
  session: SessionTable;
}

export type { Generated };
