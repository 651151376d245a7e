import type { FastifyInstance, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { actorOf, tenantOf } from '../../access/index.ts';
import { bearerSecurity } from '../../http/index.ts';
import type { DeviceTagService } from './device-tag-service.ts';

const idParam = { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } } as const;

/** `/api/v1/devices/{id}/tags`: read and replace a device's tags (campaigns select by them). */
export function deviceTagRoutes(o: { tags: DeviceTagService; guards: { readonly manage: preHandlerAsyncHookHandler; readonly read: preHandlerAsyncHookHandler } }) {
  return async (app: FastifyInstance): Promise<void> => {
    const schemaTags = ['devices'];
    const visible = async (req: FastifyRequest): Promise<void> => void (await o.tags.assertVisible(tenantOf(req.principal!), (req.params as { id: string }).id));
    app.get<{ Params: { id: string } }>('/api/v1/devices/:id/tags', {
      preValidation: [o.guards.read, visible],
      schema: { tags: schemaTags, summary: 'The device\'s tags', security: bearerSecurity, params: idParam },
    }, async (req) => ({ tags: await o.tags.list(tenantOf(req.principal!), req.params.id) }));
    app.put<{ Params: { id: string }; Body: { tags: string[] } }>('/api/v1/devices/:id/tags', {
      // Tenant isolation before validation: another tenant's device is 404 whatever the body says.
      preValidation: [o.guards.manage, visible],
      schema: {
        tags: schemaTags, summary: 'Replace the device\'s tags (campaign selection by tag)', security: bearerSecurity, params: idParam,
        body: { type: 'object', required: ['tags'], additionalProperties: false, properties: { tags: { type: 'array', maxItems: 20, items: { type: 'string', maxLength: 64 } } } },
      },
    }, async (req) => ({ tags: await o.tags.set(tenantOf(req.principal!), req.params.id, req.body.tags, actorOf(req.principal!)) }));
  };
}
