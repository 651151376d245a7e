import { CoreError } from '@medtrust/core';
import type {} from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type Permission, type Principal, roleHas, SESSION_COOKIE, type TokenService } from '../access/index.ts';

/** Resolves a session cookie to a user principal (access/SessionService implements it). */
export interface SessionAuthenticator {
  authenticateSession(sessionId: string): Promise<Principal>;
}

export { SESSION_COOKIE };

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | undefined;
  }
  interface FastifyInstance {
    /** Set by the login routes module; absent when sessions are not served. */
    medtrustSessions?: SessionAuthenticator;
  }
}

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The session id cookie, if any (parsed by @fastify/cookie, which the login routes register). */
export function sessionCookieOf(request: FastifyRequest): string | undefined {
  return (request.cookies as Record<string, string | undefined> | undefined)?.[SESSION_COOKIE];
}

/**
 * Reads `Authorization: Bearer` (API tokens) or, without it, the session cookie; sets
 * `request.principal`, or throws UNAUTHENTICATED.
 */
export async function authenticateRequest(tokens: TokenService, request: FastifyRequest): Promise<Principal> {
  if (request.principal) return request.principal;
  const h = request.headers.authorization;
  let principal: Principal;
  if (h !== undefined) {
    if (!h.startsWith('Bearer ')) throw new CoreError('UNAUTHENTICATED', 'send Authorization: Bearer <token>');
    principal = await tokens.authenticate(h.slice(7).trim());
  } else {
    const sid = sessionCookieOf(request);
    const sessions = request.server.medtrustSessions;
    if (sid === undefined || !sessions) throw new CoreError('UNAUTHENTICATED', 'send Authorization: Bearer <token> or log in');
    // OWASP CSRF cheat sheet: besides SameSite=Strict, refuse cross-origin unsafe requests.
    if (UNSAFE_METHODS.has(request.method) && !sameOrigin(request)) throw new CoreError('FORBIDDEN', 'cross-origin request with a session cookie');
    principal = await sessions.authenticateSession(sid);
  }
  request.principal = principal;
  return principal;
}

function sameOrigin(request: FastifyRequest): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}

/**
 * A route hook that admits only principals whose role holds `permission`. Routes use it as
 * `preValidation` so that an unauthenticated or unauthorised call is refused (401/403) before its
 * body or parameters are validated, and learns nothing about the route from a 400.
 */
export function requirePermission(tokens: TokenService, permission: Permission) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const p = await authenticateRequest(tokens, request);
    if (!roleHas(p.role, permission)) throw new CoreError('FORBIDDEN', `role ${p.role} lacks ${permission}`, { details: { permission } });
  };
}

/** The security scheme every authenticated route names in OpenAPI. */
export const bearerSecurity = [{ bearerAuth: [] as string[] }];
