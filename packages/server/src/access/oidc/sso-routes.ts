import { CoreError } from '@medtrust/core';
import { fastifyCookie } from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { AccessError } from '../errors.ts';
import { actorOf, type Principal, tenantOf, tenantScopeOf } from '../principal.ts';
import { SESSION_COOKIE, type SessionService } from '../session-service.ts';
import type { SsoLoginService } from './sso-login-service.ts';
import type { SsoProviderInput, SsoProviderStore } from './sso-provider-store.ts';

/** Binds an authorization request to the browser that started it (OIDC state, login CSRF). */
export const SSO_STATE_COOKIE = 'mt_oidc';
const CALLBACK_PATH = '/api/v1/auth/oidc';

export interface SsoRoutesOptions {
  readonly providers: SsoProviderStore;
  readonly login: SsoLoginService;
  readonly sessions: SessionService;
  /** `requirePermission(tokens, 'sso:manage')`. */
  readonly manage: preHandlerAsyncHookHandler;
  readonly secureCookie?: boolean | 'auto';
}

const security = [{ bearerAuth: [] as string[] }];
const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 64 } } } as const;
const roleName = { type: 'string', maxLength: 40 } as const;
const providerBody = (create: boolean) => ({
  type: 'object', additionalProperties: false,
  required: ['name', 'issuer', 'clientId', 'allowedDomains', ...(create ? ['clientSecret'] : [])],
  properties: {
    ...(create ? { tenantId: { type: 'string', maxLength: 64 } } : {}),
    name: { type: 'string', minLength: 1, maxLength: 200 }, issuer: { type: 'string', minLength: 8, maxLength: 500 }, clientId: { type: 'string', minLength: 1, maxLength: 200 },
    clientSecret: { type: 'string', minLength: 1, maxLength: 2000 }, allowedDomains: { type: 'array', minItems: 1, maxItems: 50, items: { type: 'string', maxLength: 253 } },
    roleClaim: { type: ['string', 'null'], maxLength: 100 }, roleMap: { type: 'object', maxProperties: 100, additionalProperties: roleName }, defaultRole: { type: ['string', 'null'], maxLength: 40 }, enabled: { type: 'boolean' },
  },
});

function principal(request: FastifyRequest): Principal {
  const p = request.principal;
  if (!p) throw new CoreError('UNAUTHENTICATED', 'no principal');
  return p;
}

/**
 * Hospital single sign-on: admins configure their tenant's OIDC identity provider; users start at
 * `GET /api/v1/auth/oidc/{id}/login` and come back to the callback with a session cookie.
 */
export function ssoRoutes(opts: SsoRoutesOptions) {
  const secure = (request: FastifyRequest): boolean => (opts.secureCookie === 'auto' || opts.secureCookie === undefined ? request.protocol === 'https' : opts.secureCookie);
  // Tenant isolation before body validation: another tenant's provider answers SSO_PROVIDER_NOT_FOUND.
  const owned: preHandlerAsyncHookHandler = async (request) => {
    await opts.providers.get(tenantScopeOf(principal(request)), (request.params as { id: string }).id);
  };
  return async (app: FastifyInstance): Promise<void> => {
    if (!app.hasRequestDecorator('cookies')) await app.register(fastifyCookie);

    app.post<{ Body: SsoProviderInput & { tenantId?: string } }>('/api/v1/sso/providers', {
      preValidation: opts.manage,
      schema: { tags: ['access'], summary: 'Add an OIDC identity provider for your tenant (operator: any tenant); the client secret is stored encrypted and never returned', security, body: providerBody(true) },
    }, async (request, reply) => {
      const p = principal(request);
      const scope = tenantScopeOf(p);
      const { tenantId: requested, ...input } = request.body;
      if (scope !== null && requested !== undefined && requested !== scope) throw new AccessError('TENANT_UNKNOWN', `no tenant ${requested}`);
      const tenantId = scope ?? requested ?? tenantOf(p).tenantId;
      return reply.status(201).send({ ...(await opts.providers.create(tenantId, input, actorOf(p))), redirectUri: opts.login.redirectUri });
    });

    app.get('/api/v1/sso/providers', {
      preValidation: opts.manage,
      schema: { tags: ['access'], summary: 'Identity providers of your tenant (operator: all)', security },
    }, async (request) => ({ providers: await opts.providers.list(tenantScopeOf(principal(request))), redirectUri: opts.login.redirectUri }));

    app.get<{ Params: { id: string } }>('/api/v1/sso/providers/:id', {
      preValidation: [opts.manage, owned],
      schema: { tags: ['access'], summary: 'One identity provider (without its secret)', security, params: idParams },
    }, async (request) => opts.providers.get(tenantScopeOf(principal(request)), request.params.id));

    app.put<{ Params: { id: string }; Body: SsoProviderInput }>('/api/v1/sso/providers/:id', {
      preValidation: [opts.manage, owned],
      schema: { tags: ['access'], summary: 'Change an identity provider; omit clientSecret to keep the stored one', security, params: idParams, body: providerBody(false) },
    }, async (request) => {
      const p = principal(request);
      return opts.providers.update(tenantScopeOf(p), request.params.id, request.body, actorOf(p));
    });

    app.delete<{ Params: { id: string } }>('/api/v1/sso/providers/:id', {
      preValidation: [opts.manage, owned],
      schema: { tags: ['access'], summary: 'Disable an identity provider (logins through it stop, in-flight ones too)', security, params: idParams },
    }, async (request, reply) => {
      const p = principal(request);
      await opts.providers.disable(tenantScopeOf(p), request.params.id, actorOf(p));
      return reply.status(204).send();
    });

    app.get<{ Params: { id: string } }>(`${CALLBACK_PATH}/:id/login`, {
      schema: { tags: ['access'], summary: 'Start single sign-on with a tenant\'s identity provider: redirects to it (authorization code flow with PKCE)', params: idParams },
    }, async (request, reply) => {
      const { url, state } = await opts.login.begin(request.params.id);
      // SameSite=Lax, not Strict: the cookie must come back on the IdP's cross-site redirect to the callback.
      return reply.setCookie(SSO_STATE_COOKIE, state, { path: CALLBACK_PATH, httpOnly: true, sameSite: 'lax', secure: secure(request), maxAge: 600 })
        .header('cache-control', 'no-store').redirect(url, 302);
    });

    app.get('/api/v1/auth/oidc/callback', {
      schema: { tags: ['access'], summary: 'Where the identity provider sends the browser back; sets the session cookie and opens the dashboard' },
    }, async (request, reply) => {
      const url = new URL(request.url, opts.login.redirectUri);
      const cookieState = request.cookies[SSO_STATE_COOKIE];
      void reply.clearCookie(SSO_STATE_COOKIE, { path: CALLBACK_PATH });
      const done = await opts.login.complete(url, cookieState, { ip: request.ip });
      return sessionPage(reply.setCookie(SESSION_COOKIE, done.sessionId, { path: '/', httpOnly: true, sameSite: 'strict', secure: secure(request), maxAge: Math.floor(opts.sessions.ttlMs / 1000) }));
    });
  };
}

/**
 * A page that moves on to the dashboard by itself: a SameSite=Strict cookie set on a cross-site
 * redirect chain is not sent on a redirect within that chain, but is on this same-site navigation.
 */
function sessionPage(reply: FastifyReply): FastifyReply {
  return reply.header('cache-control', 'no-store').header('content-security-policy', "default-src 'none'").type('text/html; charset=utf-8')
    .send('<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=/"><title>MedTrust</title><p>Signed in. <a href="/">Open the dashboard</a>.</p>');
}
