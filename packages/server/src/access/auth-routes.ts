import { CoreError } from '@medtrust/core';
import { fastifyCookie } from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { AuditLog } from '../audit/index.ts';
import type { LoginRateLimiter } from './login-rate-limiter.ts';
import { type Principal, tenantOf } from './principal.ts';
import { SESSION_COOKIE, type SessionService } from './session-service.ts';
import type { UserService } from './user-service.ts';

export interface AuthRoutesOptions {
  readonly users: UserService;
  readonly sessions: SessionService;
  readonly limiter: LoginRateLimiter;
  readonly audit: AuditLog;
  /** Any authenticated principal (token or session): the platform's authenticateRequest as a hook. */
  readonly authenticated: preHandlerAsyncHookHandler;
  /** Secure cookie attribute: always, never (plain-HTTP development), or when the request came over HTTPS. */
  readonly secureCookie?: boolean | 'auto';
}

/**
 * Dashboard login: POST /api/v1/auth/login sets an HttpOnly, SameSite=Strict session cookie;
 * logout ends the session; /me says who is calling. Registers the session authenticator that the
 * auth hook (http/auth.ts) uses for requests without a bearer token.
 */
export function authRoutes(opts: AuthRoutesOptions) {
  const setCookie = (request: FastifyRequest, reply: FastifyReply, value: string, maxAgeS: number): FastifyReply => reply.setCookie(SESSION_COOKIE, value, {
    path: '/', httpOnly: true, sameSite: 'strict', maxAge: maxAgeS,
    secure: opts.secureCookie === 'auto' || opts.secureCookie === undefined ? request.protocol === 'https' : opts.secureCookie,
  });
  return async (app: FastifyInstance): Promise<void> => {
    // fastify-plugin: registered once, on the root, so every route sees request.cookies.
    if (!app.hasRequestDecorator('cookies')) await app.register(fastifyCookie);
    app.decorate('medtrustSessions', opts.sessions);

    app.post<{ Body: { email: string; password: string } }>('/api/v1/auth/login', {
      schema: {
        tags: ['access'], summary: 'Log in with email and password; sets the session cookie',
        body: { type: 'object', additionalProperties: false, required: ['email', 'password'], properties: { email: { type: 'string', minLength: 3, maxLength: 320 }, password: { type: 'string', minLength: 1, maxLength: 1024 } } },
      },
    }, async (request, reply) => {
      const waitMs = opts.limiter.hit(`ip:${request.ip}`);
      if (waitMs > 0) {
        await opts.audit.append({ actor: 'anonymous', action: 'access.login.rate-limited', outcome: 'denied', details: { ip: request.ip } });
        void reply.header('retry-after', String(Math.ceil(waitMs / 1000)));
        throw new CoreError('RATE_LIMITED', 'too many login attempts from this address');
      }
      const who = await opts.users.checkPassword(request.body.email, request.body.password, { ip: request.ip });
      const s = await opts.sessions.create({ userId: who.userId, tenantId: who.tenantId });
      return setCookie(request, reply, s.sessionId, Math.floor(opts.sessions.ttlMs / 1000)).header('cache-control', 'no-store')
        .send({ userId: who.userId, tenantId: who.tenantId, role: who.role, expiresAt: s.expiresAt });
    });

    app.post('/api/v1/auth/logout', {
      schema: { tags: ['access'], summary: 'End the current session and clear the cookie' },
    }, async (request, reply) => {
      const sid = request.cookies[SESSION_COOKIE];
      const ended = sid === undefined ? undefined : await opts.sessions.revoke(sid);
      if (ended) await opts.audit.append({ actor: `user:${ended.userId}`, action: 'access.logout', target: `user:${ended.userId}`, tenantId: ended.tenantId });
      return setCookie(request, reply, '', 0).status(204).send();
    });

    app.get('/api/v1/auth/me', {
      preValidation: opts.authenticated,
      schema: { tags: ['access'], summary: 'Who is calling: principal kind, tenant and role', security: [{ bearerAuth: [] }] },
    }, async (request) => describe(request.principal as Principal));
  };
}

function describe(p: Principal): Record<string, string> {
  const t = tenantOf(p);
  switch (p.kind) {
    case 'token':
      return { kind: p.kind, id: p.tokenId, tenantId: t.tenantId, tenantKind: t.tenantKind, role: p.role };
    case 'user':
      return { kind: p.kind, id: p.userId, tenantId: t.tenantId, tenantKind: t.tenantKind, role: p.role };
    case 'system':
      return { kind: p.kind, id: 'system', tenantId: t.tenantId, tenantKind: t.tenantKind, role: p.role };
    default:
      return p satisfies never;
  }
}
