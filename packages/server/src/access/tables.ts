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

export interface AccessTables {
  tenant: TenantTable;
  api_token: ApiTokenTable;
}

export type { Generated };
