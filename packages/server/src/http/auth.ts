import { CoreError } from '@medtrust/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type Permission, type Principal, roleHas, type TokenService } from '../access/index.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | undefined;
  }
}

/** Reads `Authorization: Bearer`, sets `request.principal`, or throws UNAUTHENTICATED. */
export async function authenticateRequest(tokens: TokenService, request: FastifyRequest): Promise<Principal> {
  if (request.principal) return request.principal;
  const h = request.headers.authorization;
  if (!h || !h.startsWith('Bearer ')) throw new CoreError('UNAUTHENTICATED', 'send Authorization: Bearer <token>');
  const principal = await tokens.authenticate(h.slice(7).trim());
  request.principal = principal;
  return principal;
}

/** A preHandler that admits only principals whose role holds `permission`. */
export function requirePermission(tokens: TokenService, permission: Permission) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const p = await authenticateRequest(tokens, request);
    if (!roleHas(p.role, permission)) throw new CoreError('FORBIDDEN', `role ${p.role} lacks ${permission}`, { details: { permission } });
  };
}

/** The security scheme every authenticated route names in OpenAPI. */
export const bearerSecurity = [{ bearerAuth: [] as string[] }];
