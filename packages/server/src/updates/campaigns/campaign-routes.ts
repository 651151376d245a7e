import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify';
import { actorOf } from '../../access/index.ts';
import { bearerSecurity } from '../../http/index.ts';
import type { CampaignService, CreateCampaignInput } from './campaign-service.ts';

/** `/api/v1/campaigns`: create, read, resume and approve phased rollouts. */
export function campaignRoutes(opts: { campaigns: CampaignService; guards: { readonly manage: preHandlerAsyncHookHandler; readonly read: preHandlerAsyncHookHandler } }) {
  const { campaigns, guards } = opts;
  return async (app: FastifyInstance): Promise<void> => {
    app.post<{ Body: Omit<CreateCampaignInput, 'actor'> }>('/api/v1/campaigns', {
      preValidation: guards.manage,
      schema: {
        tags: ['campaigns'], summary: 'Start a phased rollout of a published release', security: bearerSecurity,
        body: {
          type: 'object', required: ['releaseId', 'name', 'selection'], additionalProperties: false,
          properties: {
            releaseId: { type: 'string' }, name: { type: 'string' }, emergency: { type: 'boolean' },
            selection: { type: 'object', required: ['model'], additionalProperties: false, properties: { model: { type: 'string' }, siteIds: { type: 'array', items: { type: 'string' } }, currentFirmware: { type: 'string' }, tags: { type: 'array', maxItems: 10, items: { type: 'string', maxLength: 64 } } } },
            requiresApproval: { type: 'boolean' },
            phases: { type: 'array', items: { type: 'number' } }, successThreshold: { type: 'number' }, failureThreshold: { type: 'number' },
            maintenanceWindow: { type: ['object', 'null'], properties: { startHour: { type: 'integer' }, endHour: { type: 'integer' } } },
          },
        },
      },
    }, async (request, reply) => reply.status(201).send(await campaigns.create({ ...request.body, actor: actorOf(request.principal!) })));
    app.get<{ Querystring: { limit?: number; before?: string } }>('/api/v1/campaigns', {
      preValidation: guards.read,
      schema: { tags: ['campaigns'], summary: 'Campaigns newest first with per-status device counts; page with `before` (the last id of the previous page)', security: bearerSecurity, querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'integer', minimum: 1, maximum: 100 }, before: { type: 'string', maxLength: 64 } } } },
    }, async (request) => campaigns.list({ limit: request.query.limit ?? 20, before: request.query.before }));
    app.get<{ Params: { id: string } }>('/api/v1/campaigns/:id', {
      preValidation: guards.read, schema: { tags: ['campaigns'], summary: 'A campaign with per-status device counts', security: bearerSecurity },
    }, async (request) => campaigns.get(request.params.id));
    app.post<{ Params: { id: string } }>('/api/v1/campaigns/:id/resume', {
      preValidation: guards.manage, schema: { tags: ['campaigns'], summary: 'Resume a paused campaign', security: bearerSecurity },
    }, async (request) => campaigns.resume(request.params.id, actorOf(request.principal!)));
    app.post<{ Params: { id: string } }>('/api/v1/campaigns/:id/approve', {
      preValidation: guards.manage, schema: { tags: ['campaigns'], summary: 'Open the next phase of a campaign awaiting approval (audited with the approver)', security: bearerSecurity },
    }, async (request) => campaigns.approve(request.params.id, actorOf(request.principal!)));
  };
}
