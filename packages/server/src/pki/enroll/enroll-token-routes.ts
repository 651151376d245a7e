import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify';
import { actorOf, tenantOf } from '../../access/index.ts';
import type { EnrollTokenService } from './enroll-token-service.ts';

/**
 * REST: `POST /api/v1/devices/:id/enroll-tokens` creates a one-time EST secret. `guard` is the
 * platform's `requirePermission(tokens, 'enroll-token:create')`, passed in so that pki/ does
 * not depend on http/.
 */
export function enrollTokenRoutes(opts: { service: EnrollTokenService; guard: preHandlerAsyncHookHandler }) {
  return async (app: FastifyInstance): Promise<void> => {
    app.post<{ Params: { id: string }; Body: { ttlHours?: number } | undefined }>('/api/v1/devices/:id/enroll-tokens', {
      preValidation: opts.guard,
      schema: {
        tags: ['pki'],
        summary: 'Create a one-time EST enrolment secret for a device (shown once)',
        security: [{ bearerAuth: [] }],
        params: { type: 'object', properties: { id: { type: 'string', maxLength: 64 } }, required: ['id'] },
        body: { type: 'object', properties: { ttlHours: { type: 'number', exclusiveMinimum: 0, maximum: 8760 } }, additionalProperties: false },
        response: {
          201: { type: 'object', properties: { username: { type: 'string' }, password: { type: 'string' }, deviceId: { type: 'string' }, expiresAt: { type: 'integer' } }, required: ['username', 'password', 'deviceId', 'expiresAt'] },
        },
      },
    }, async (request, reply) => {
      const p = request.principal!;
      // Tenant isolation: every principal kind (token, session user, system) carries its tenant.
      const scope = tenantOf(p);
      const created = await opts.service.create({ deviceId: request.params.id, createdBy: actorOf(p), ttlHours: request.body?.ttlHours, tenantScope: scope });
      return reply.status(201).header('cache-control', 'no-store').send(created);
    });
  };
}
