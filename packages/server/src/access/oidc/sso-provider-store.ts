import { type Clock, newId, openAes256Gcm, sealAes256Gcm, systemClock } from '@medtrust/core';
import type { Kysely } from 'kysely';
import type { AuditLog } from '../../audit/index.ts';
import type { Database } from '../../db/index.ts';
import { AccessError } from '../errors.ts';
import { isRole, type Role } from '../roles.ts';
import { roleAllowedIn } from '../tenant-roles.ts';
import type { OidcProviderTable } from '../tables.ts';

/** What an admin sets for a tenant's identity provider; the secret is write-only. */
export interface SsoProviderInput {
  readonly name: string;
  readonly issuer: string;
  readonly clientId: string;
  /** Required on create; on update, omitted keeps the stored one. */
  readonly clientSecret?: string;
  readonly allowedDomains: readonly string[];
  readonly roleClaim?: string | null;
  readonly roleMap?: Readonly<Record<string, string>>;
  readonly defaultRole?: string | null;
  readonly enabled?: boolean;
}

/** A provider as admins see it (never the client secret). */
export interface SsoProviderView {
  readonly id: string;
  readonly tenantId: string;
  readonly name: string;
  readonly issuer: string;
  readonly clientId: string;
  readonly allowedDomains: readonly string[];
  readonly roleClaim: string | null;
  readonly roleMap: Readonly<Record<string, Role>>;
  readonly defaultRole: Role | null;
  readonly enabled: boolean;
  readonly updatedAt: number;
}

/** A provider as the login flow needs it, with the opened client secret. */
export interface SsoProviderSecret extends SsoProviderView {
  readonly clientSecret: string;
  readonly tenantKind: 'operator' | 'customer' | 'site';
}

const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** True when the issuer is http on a loopback host (development and tests); https is required otherwise. */
export function isLoopbackHttp(issuer: URL): boolean {
  return issuer.protocol === 'http:' && LOOPBACK.has(issuer.hostname);
}

/** Per-tenant OIDC identity providers; client secrets sealed at rest (AES-256-GCM, id as AAD). */
export class SsoProviderStore {
  readonly #db: Kysely<Database>;
  readonly #audit: AuditLog;
  readonly #clock: Clock;
  readonly #secretKey: () => Promise<Buffer>;

  constructor(opts: { db: Kysely<Database>; audit: AuditLog; secretKey: () => Promise<Buffer>; clock?: Clock }) {
    this.#db = opts.db;
    this.#audit = opts.audit;
    this.#secretKey = opts.secretKey;
    this.#clock = opts.clock ?? systemClock;
  }

  async create(tenantId: string, input: SsoProviderInput, actor: string): Promise<SsoProviderView> {
    const tenantKind = await this.#tenantKind(tenantId);
    const v = validate(input, tenantKind);
    if (input.clientSecret === undefined || input.clientSecret.length === 0) throw new AccessError('SSO_PROVIDER_INVALID', 'a client secret is required', { details: { field: 'clientSecret' } });
    const id = newId('idp');
    const now = this.#clock.nowMs();
    await this.#db.insertInto('oidc_provider').values({
      id, tenant_id: tenantId, ...v, client_secret_enc: sealAes256Gcm(await this.#secretKey(), input.clientSecret, id), created_at: now, updated_at: now, created_by: actor,
    }).execute();
    await this.#audit.append({ actor, action: 'access.sso-provider.created', target: `sso-provider:${id}`, tenantId, details: { issuer: v.issuer, clientId: v.client_id, enabled: v.enabled === 1 } });
    return this.get(tenantId, id);
  }

  async update(tenantScope: string | null, id: string, input: SsoProviderInput, actor: string): Promise<SsoProviderView> {
    const row = await this.#row(tenantScope, id);
    const v = validate(input, await this.#tenantKind(row.tenant_id));
    const secret = input.clientSecret === undefined || input.clientSecret.length === 0 ? {} : { client_secret_enc: sealAes256Gcm(await this.#secretKey(), input.clientSecret, id) };
    await this.#db.updateTable('oidc_provider').set({ ...v, ...secret, updated_at: this.#clock.nowMs() }).where('id', '=', id).execute();
    await this.#audit.append({ actor, action: 'access.sso-provider.updated', target: `sso-provider:${id}`, tenantId: row.tenant_id, details: { issuer: v.issuer, clientId: v.client_id, enabled: v.enabled === 1, secretChanged: 'client_secret_enc' in secret } });
    return this.get(tenantScope, id);
  }

  /** Disables a provider: logins through it stop at once (in-flight ones too). */
  async disable(tenantScope: string | null, id: string, actor: string): Promise<void> {
    const row = await this.#row(tenantScope, id);
    await this.#db.updateTable('oidc_provider').set({ enabled: 0, updated_at: this.#clock.nowMs() }).where('id', '=', id).execute();
    await this.#audit.append({ actor, action: 'access.sso-provider.disabled', target: `sso-provider:${id}`, tenantId: row.tenant_id });
  }

  async get(tenantScope: string | null, id: string): Promise<SsoProviderView> {
    return view(await this.#row(tenantScope, id));
  }

  async list(tenantScope: string | null): Promise<SsoProviderView[]> {
    let q = this.#db.selectFrom('oidc_provider').selectAll().orderBy('name').orderBy('id');
    if (tenantScope !== null) q = q.where('tenant_id', '=', tenantScope);
    return (await q.execute()).map(view);
  }

  /** An enabled provider with its secret, for the login flow; SSO_PROVIDER_NOT_FOUND otherwise. */
  async forLogin(id: string): Promise<SsoProviderSecret> {
    const row = await this.#db.selectFrom('oidc_provider').innerJoin('tenant', 'tenant.id', 'oidc_provider.tenant_id').selectAll('oidc_provider').select('tenant.kind as tenant_kind')
      .where('oidc_provider.id', '=', id).executeTakeFirst();
    if (!row || row.enabled !== 1) throw new AccessError('SSO_PROVIDER_NOT_FOUND', `no enabled single sign-on provider ${id}`);
    const clientSecret = openAes256Gcm(await this.#secretKey(), Buffer.from(row.client_secret_enc), row.id).toString('utf8');
    return { ...view(row), clientSecret, tenantKind: row.tenant_kind };
  }

  async #row(tenantScope: string | null, id: string): Promise<OidcProviderTable> {
    let q = this.#db.selectFrom('oidc_provider').selectAll().where('id', '=', id);
    if (tenantScope !== null) q = q.where('tenant_id', '=', tenantScope);
    const row = await q.executeTakeFirst();
    if (!row) throw new AccessError('SSO_PROVIDER_NOT_FOUND', `no single sign-on provider ${id}`);
    return row;
  }

  async #tenantKind(tenantId: string): Promise<'operator' | 'customer' | 'site'> {
    const t = await this.#db.selectFrom('tenant').select('kind').where('id', '=', tenantId).executeTakeFirst();
    if (!t) throw new AccessError('TENANT_UNKNOWN', `no tenant ${tenantId}`);
    return t.kind;
  }
}

type Validated = Pick<OidcProviderTable, 'name' | 'issuer' | 'client_id' | 'allowed_domains' | 'role_claim' | 'role_map' | 'default_role' | 'enabled'>;

function validate(input: SsoProviderInput, tenantKind: 'operator' | 'customer' | 'site'): Validated {
  const bad = (field: string, message: string): never => {
    throw new AccessError('SSO_PROVIDER_INVALID', message, { details: { field } });
  };
  let issuer: URL;
  try {
    issuer = new URL(input.issuer);
  } catch {
    return bad('issuer', 'the issuer is not a URL');
  }
  // OpenID Connect Discovery 1.0 §2: the issuer is an https URL without query or fragment.
  if ((issuer.protocol !== 'https:' && !isLoopbackHttp(issuer)) || issuer.search !== '' || issuer.hash !== '' || issuer.username !== '' || issuer.password !== '') bad('issuer', 'the issuer must be an https URL without query, fragment or credentials (http only on loopback)');
  const domains = input.allowedDomains.map((d) => d.trim().toLowerCase());
  if (domains.length === 0) bad('allowedDomains', 'at least one allowed email domain is required');
  for (const d of domains) if (!DOMAIN.test(d)) bad('allowedDomains', `"${d}" is not a domain name`);
  const roleOk = (r: string): r is Role => isRole(r) && r !== 'device' && roleAllowedIn(tenantKind, r);
  const roleMap: Record<string, Role> = {};
  for (const [k, r] of Object.entries(input.roleMap ?? {})) {
    if (!roleOk(r)) bad('roleMap', `role "${r}" does not exist or cannot be given in a ${tenantKind} tenant`);
    roleMap[k] = r as Role;
  }
  const defaultRole = input.defaultRole ?? null;
  if (defaultRole !== null && !roleOk(defaultRole)) bad('defaultRole', `role "${defaultRole}" does not exist or cannot be given in a ${tenantKind} tenant`);
  if (Object.keys(roleMap).length > 0 && !input.roleClaim) bad('roleClaim', 'a role map needs the claim it reads');
  if (defaultRole === null && Object.keys(roleMap).length === 0) bad('roleMap', 'give a role map or a default role: nobody could log in otherwise');
  if (input.name.trim().length === 0) bad('name', 'the name is empty');
  return {
    name: input.name.trim(), issuer: input.issuer.trim(), client_id: input.clientId, allowed_domains: JSON.stringify([...new Set(domains)]),
    role_claim: input.roleClaim ?? null, role_map: JSON.stringify(roleMap), default_role: defaultRole, enabled: input.enabled === false ? 0 : 1,
  };
}

function view(r: OidcProviderTable): SsoProviderView {
  return {
    id: r.id, tenantId: r.tenant_id, name: r.name, issuer: r.issuer, clientId: r.client_id, allowedDomains: JSON.parse(r.allowed_domains) as string[],
    roleClaim: r.role_claim, roleMap: JSON.parse(r.role_map) as Record<string, Role>, defaultRole: r.default_role as Role | null, enabled: r.enabled === 1, updatedAt: r.updated_at,
  };
}
