import { createHash, timingSafeEqual } from 'node:crypto';
import { type Clock, systemClock } from '@medtrust/core';
import type { Kysely } from 'kysely';
import * as oidc from 'openid-client';
import type { AuditLog } from '../../audit/index.ts';
import type { Database } from '../../db/index.ts';
import { AccessError } from '../errors.ts';
import type { Role } from '../roles.ts';
import type { SessionService } from '../session-service.ts';
import type { UserService } from '../user-service.ts';
import { isLoopbackHttp, type SsoProviderSecret, type SsoProviderStore } from './sso-provider-store.ts';

const LOGIN_TTL_MS = 10 * 60_000;
const DISCOVERY_TTL_MS = 3_600_000;
const IDP_TIMEOUT_S = 10;
const sha256 = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Why a single sign-on failed, as the audit log records it. */
export type SsoFailure =
  | 'state-mismatch' | 'login-unknown' | 'login-expired' | 'provider-disabled' | 'provider-unavailable' | 'idp-error'
  | 'token-rejected' | 'email-missing' | 'email-not-verified' | 'domain-not-allowed' | 'no-role-mapped' | 'email-in-other-tenant' | 'user-disabled';

/** Who a completed single sign-on logged in, and the session it opened. */
export interface SsoLogin {
  readonly userId: string;
  readonly tenantId: string;
  readonly role: Role;
  readonly sessionId: string;
  readonly expiresAt: number;
  readonly created: boolean;
}

/**
 * OpenID Connect authorization code flow with PKCE (RFC 7636), state and nonce, for hospital
 * single sign-on: one identity provider per tenant; the user is created or linked in that tenant
 * with the role the provider's claims map to, and gets the same session as a password login.
 */
export class SsoLoginService {
  readonly #db: Kysely<Database>;
  readonly #providers: SsoProviderStore;
  readonly #users: UserService;
  readonly #sessions: SessionService;
  readonly #audit: AuditLog;
  readonly #clock: Clock;
  readonly #redirectUri: string;
  readonly #configs = new Map<string, { key: string; at: number; config: Promise<oidc.Configuration> }>();

  constructor(opts: { db: Kysely<Database>; providers: SsoProviderStore; users: UserService; sessions: SessionService; audit: AuditLog; publicUrl: string; clock?: Clock }) {
    this.#db = opts.db;
    this.#providers = opts.providers;
    this.#users = opts.users;
    this.#sessions = opts.sessions;
    this.#audit = opts.audit;
    this.#clock = opts.clock ?? systemClock;
    this.#redirectUri = new URL('/api/v1/auth/oidc/callback', opts.publicUrl).href;
  }

  /** The redirect URI to register at the identity provider. */
  get redirectUri(): string {
    return this.#redirectUri;
  }

  /** Starts a login: the URL to send the browser to, and the state to bind to it (cookie). */
  async begin(providerId: string): Promise<{ url: string; state: string }> {
    const provider = await this.#providers.forLogin(providerId);
    const config = await this.#config(provider).catch((cause: unknown) => {
      throw new AccessError('SSO_PROVIDER_UNAVAILABLE', 'the identity provider cannot be reached', { cause });
    });
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const now = this.#clock.nowMs();
    await this.#db.insertInto('oidc_login').values({ state_sha256: sha256(state), provider_id: provider.id, nonce, code_verifier: codeVerifier, created_at: now, expires_at: now + LOGIN_TTL_MS }).execute();
    await this.#db.deleteFrom('oidc_login').where('expires_at', '<', now).execute();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: this.#redirectUri, response_type: 'code', scope: 'openid email profile', state, nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier), code_challenge_method: 'S256',
    });
    return { url: url.href, state };
  }

  /**
   * Completes a login from the callback URL and the state cookie; throws SSO_LOGIN_FAILED (after
   * auditing the reason) on any mismatch or refusal.
   */
  async complete(callbackUrl: URL, cookieState: string | undefined, context: { ip: string }): Promise<SsoLogin> {
    let providerId: string | null = null;
    let tenantId: string | null = null;
    const fail = async (reason: SsoFailure, cause?: unknown, userId?: string): Promise<never> => {
      await this.#audit.append({ actor: userId ? `user:${userId}` : 'anonymous', action: 'access.login.failed', outcome: 'denied', target: userId ? `user:${userId}` : null, tenantId, details: { method: 'oidc', reason, providerId, ip: context.ip, ...errorSummary(cause) } });
      throw new AccessError('SSO_LOGIN_FAILED', 'single sign-on did not complete', { cause, details: { reason } });
    };
    const state = callbackUrl.searchParams.get('state') ?? '';
    // OIDC Core §3.1.2.7 / RFC 6749 §10.12: the state must be the one this browser started with (login CSRF).
    if (!cookieState || !equal(state, cookieState)) return fail('state-mismatch');
    const key = sha256(cookieState);
    const login = await this.#db.selectFrom('oidc_login').selectAll().where('state_sha256', '=', key).executeTakeFirst();
    // Single use: whoever deletes the row completes the login; a replayed callback finds nothing.
    const taken = Number((await this.#db.deleteFrom('oidc_login').where('state_sha256', '=', key).executeTakeFirst()).numDeletedRows);
    if (!login || taken !== 1) return fail('login-unknown');
    providerId = login.provider_id;
    if (login.expires_at <= this.#clock.nowMs()) return fail('login-expired');
    let provider: SsoProviderSecret;
    try {
      provider = await this.#providers.forLogin(login.provider_id);
    } catch (e) {
      return fail('provider-disabled', e);
    }
    tenantId = provider.tenantId;
    let config: oidc.Configuration;
    try {
      config = await this.#config(provider);
    } catch (e) {
      return fail('provider-unavailable', e);
    }
    let claims: Record<string, unknown>;
    try {
      // Checks the iss response parameter (RFC 9207) and the ID token's iss, aud, exp, nonce and
      // signature (OIDC Core §3.1.3.7); the code is redeemed with the PKCE verifier.
      const tokens = await oidc.authorizationCodeGrant(config, callbackUrl, { pkceCodeVerifier: login.code_verifier, expectedState: cookieState, expectedNonce: login.nonce, idTokenExpected: true });
      const idClaims = tokens.claims();
      if (!idClaims) return await fail('token-rejected');
      claims = { ...idClaims };
      // Many providers put email and group claims only in UserInfo for the code flow (OIDC Core §5.4).
      if (config.serverMetadata().userinfo_endpoint) claims = { ...(await oidc.fetchUserInfo(config, tokens.access_token, idClaims.sub)), ...idClaims };
    } catch (e) {
      if (e instanceof AccessError) throw e;
      return fail(e instanceof oidc.AuthorizationResponseError ? 'idp-error' : 'token-rejected', e);
    }
    const email = typeof claims.email === 'string' ? claims.email.trim().toLowerCase() : '';
    if (!email) return fail('email-missing');
    if (claims.email_verified === false) return fail('email-not-verified');
    const domain = email.slice(email.lastIndexOf('@') + 1);
    if (!provider.allowedDomains.includes(domain)) return fail('domain-not-allowed');
    const role = mapRole(provider, claims);
    if (!role) return fail('no-role-mapped');
    const subject = String(claims.sub);
    const now = this.#clock.nowMs();
    const actor = `sso-provider:${provider.id}`;
    let userId: string;
    let created = false;
    const linked = await this.#db.selectFrom('oidc_identity').select('user_id').where('provider_id', '=', provider.id).where('subject', '=', subject).executeTakeFirst();
    if (linked) {
      userId = linked.user_id;
    } else {
      const existing = await this.#db.selectFrom('app_user').select(['id', 'tenant_id']).where('email', '=', email).executeTakeFirst();
      if (existing && existing.tenant_id !== provider.tenantId) return fail('email-in-other-tenant');
      if (existing) {
        userId = existing.id;
      } else {
        userId = (await this.#users.createSso({ tenantId: provider.tenantId, email, role, createdBy: actor })).id;
        created = true;
      }
      await this.#db.insertInto('oidc_identity').values({ provider_id: provider.id, subject, user_id: userId, created_at: now, last_login_at: now }).execute();
      await this.#audit.append({ actor, action: 'access.sso-identity.linked', target: `user:${userId}`, tenantId: provider.tenantId, details: { providerId: provider.id, created } });
    }
    const user = await this.#db.selectFrom('app_user').select(['tenant_id', 'disabled_at']).where('id', '=', userId).executeTakeFirstOrThrow();
    if (user.disabled_at !== null || user.tenant_id !== provider.tenantId) return fail('user-disabled', undefined, userId);
    // The provider's claims decide the role at every login: a change in the hospital directory applies at the next one.
    await this.#users.setRole(userId, role, actor);
    await this.#db.updateTable('oidc_identity').set({ last_login_at: now }).where('provider_id', '=', provider.id).where('subject', '=', subject).execute();
    const session = await this.#sessions.create({ userId, tenantId: provider.tenantId });
    await this.#audit.append({ actor: `user:${userId}`, action: 'access.login.succeeded', target: `user:${userId}`, tenantId: provider.tenantId, details: { method: 'oidc', providerId: provider.id, role, ip: context.ip } });
    return { userId, tenantId: provider.tenantId, role, sessionId: session.sessionId, expiresAt: session.expiresAt, created };
  }

  /** Discovery, cached per provider for an hour and dropped when the provider's settings change. */
  #config(p: SsoProviderSecret): Promise<oidc.Configuration> {
    const key = `${p.updatedAt}`;
    const cached = this.#configs.get(p.id);
    if (cached && cached.key === key && this.#clock.nowMs() - cached.at < DISCOVERY_TTL_MS) return cached.config;
    const issuer = new URL(p.issuer);
    const config = oidc.discovery(issuer, p.clientId, undefined, oidc.ClientSecretBasic(p.clientSecret), {
      timeout: IDP_TIMEOUT_S,
      // http only for a loopback issuer (development, tests); the store refuses it anywhere else.
      ...(isLoopbackHttp(issuer) ? { execute: [oidc.allowInsecureRequests] } : {}),
    });
    this.#configs.set(p.id, { key, at: this.#clock.nowMs(), config });
    config.catch(() => this.#configs.delete(p.id));
    return config;
  }
}

/** The library's error code and message (they name the failed check, never a token or secret). */
function errorSummary(cause: unknown): { error?: string } {
  if (!(cause instanceof Error) || cause instanceof AccessError) return {};
  // openid-client wraps the oauth4webapi error that names the check (`unexpected JWT "nonce" (nonce) claim value`).
  const inner = cause.cause instanceof Error ? cause.cause : cause;
  const code = (inner as { code?: unknown }).code;
  return { error: `${typeof code === 'string' ? `${code}: ` : ''}${inner.message}`.slice(0, 200) };
}

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The first claim value (in the provider's order) that the role map names, else the default role. */
function mapRole(p: SsoProviderSecret, claims: Record<string, unknown>): Role | null {
  if (p.roleClaim) {
    const raw = claims[p.roleClaim];
    const values = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
    for (const v of values) {
      if (typeof v !== 'string') continue;
      const role = Object.hasOwn(p.roleMap, v) ? p.roleMap[v] : undefined;
      if (role) return role;
    }
  }
  return p.defaultRole;
}
