import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { actorOf, tenantOf, tenantScopeOf, type TokenService } from '../../access/index.ts';
import type { EventBus } from '../../events/index.ts';
import { authenticateRequest, bearerSecurity, requirePermission } from '../../http/index.ts';
import type { AlertRuleInput, AlertRuleStore } from './alert-rule-store.ts';
import type { AlertService, AlertView } from './alert-service.ts';
import type { WebhookService } from './webhook-service.ts';

export interface AlertRoutesOptions {
  readonly tokens: TokenService;
  readonly rules: AlertRuleStore;
  readonly alerts: AlertService;
  readonly webhooks: WebhookService;
  readonly events: EventBus;
  /** Observes SSE delivery latency (message receipt to push). */
  readonly onStreamed?: (alert: AlertView, atMs: number) => void;
}

const idParam = { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } } as const;
const ruleBody = {
  type: 'object', required: ['name', 'priority', 'condition'], additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200 }, priority: { enum: ['high', 'medium', 'low'] }, enabled: { type: 'boolean' },
    scope: { type: 'object', additionalProperties: false, properties: { patientId: { type: 'string' }, careArea: { type: 'string' } } },
    condition: { type: 'object', required: ['kind'], properties: { kind: { enum: ['threshold', 'device-alarm', 'no-heartbeat', 'security'] } } },
    escalateAfterMs: { type: 'integer' }, escalationRoles: { type: 'array', items: { type: 'string' }, maxItems: 5 },
  },
} as const;

/** REST for alert rules, alerts (acknowledge, resolve), the SSE live stream, and webhooks. */
export function alertRoutes(o: AlertRoutesOptions) {
  return async (app: FastifyInstance): Promise<void> => {
    const can = (p: Parameters<typeof requirePermission>[1]) => ({ preValidation: requirePermission(o.tokens, p) });
    const scope = (req: FastifyRequest): string | null => tenantScopeOf(req.principal!);
    const actor = (req: FastifyRequest): string => actorOf(req.principal!);
    const tags = ['alerts'];

    app.get('/api/v1/alert-rules', { ...can('alert:read'), schema: { tags, summary: 'Alert rules of your tenant', security: bearerSecurity } }, async (req) => {
      const t = tenantOf(req.principal!);
      return { rules: await o.rules.forTenant(t.tenantId) };
    });
    app.post('/api/v1/alert-rules', { ...can('alert-rule:manage'), schema: { tags, summary: 'Create an alert rule', security: bearerSecurity, body: ruleBody } }, async (req, reply) => {
      const rule = await o.rules.create(tenantOf(req.principal!).tenantId, req.body as AlertRuleInput, actor(req));
      return reply.status(201).send(rule);
    });
    app.put('/api/v1/alert-rules/:id', { ...can('alert-rule:manage'), schema: { tags, summary: 'Replace an alert rule', security: bearerSecurity, params: idParam, body: ruleBody } }, async (req) =>
      o.rules.update(scope(req), (req.params as { id: string }).id, req.body as AlertRuleInput, actor(req)));
    app.delete('/api/v1/alert-rules/:id', { ...can('alert-rule:manage'), schema: { tags, summary: 'Delete an alert rule', security: bearerSecurity, params: idParam } }, async (req, reply) => {
      await o.rules.remove(scope(req), (req.params as { id: string }).id, actor(req));
      return reply.status(204).send();
    });

    app.get('/api/v1/alerts', {
      ...can('alert:read'),
      schema: { tags, summary: 'Alerts, newest first (page with `before`)', security: bearerSecurity, querystring: { type: 'object', additionalProperties: false, properties: { state: { enum: ['raised', 'acknowledged', 'resolved', 'open'] }, deviceId: { type: 'string' }, limit: { type: 'integer', minimum: 1, maximum: 500 }, before: { type: 'string', format: 'date-time' } } } },
    }, async (req) => {
      const q = req.query as { state?: 'raised' | 'acknowledged' | 'resolved' | 'open'; deviceId?: string; limit?: number; before?: string };
      return { alerts: await o.alerts.list(scope(req), { state: q.state, deviceId: q.deviceId, limit: q.limit, beforeMs: q.before ? Date.parse(q.before) : undefined }) };
    });
    app.get('/api/v1/alerts/:id', { ...can('alert:read'), schema: { tags, summary: 'One alert', security: bearerSecurity, params: idParam } }, async (req) => o.alerts.get(scope(req), (req.params as { id: string }).id));
    app.post('/api/v1/alerts/:id/acknowledge', { ...can('alert:acknowledge'), schema: { tags, summary: 'Acknowledge a raised alert', security: bearerSecurity, params: idParam } }, async (req) =>
      o.alerts.acknowledge(scope(req), (req.params as { id: string }).id, actor(req)));
    app.post('/api/v1/alerts/:id/resolve', { ...can('alert:acknowledge'), schema: { tags, summary: 'Resolve an alert', security: bearerSecurity, params: idParam } }, async (req) =>
      o.alerts.resolve(scope(req), (req.params as { id: string }).id, actor(req)));

    app.get('/api/v1/alerts/stream', { ...can('alert:read'), schema: { tags, summary: 'Live alert changes (Server-Sent Events: `event: alert`, data = the alert)', security: bearerSecurity } }, (req, reply) => streamAlerts(o, req, reply));

    app.post('/api/v1/webhooks', { ...can('webhook:manage'), schema: { tags, summary: 'Register a webhook; the HMAC secret is shown once', security: bearerSecurity, body: { type: 'object', required: ['url'], additionalProperties: false, properties: { url: { type: 'string', maxLength: 2000 } } } } }, async (req, reply) => {
      const r = await o.webhooks.createEndpoint(tenantOf(req.principal!).tenantId, (req.body as { url: string }).url, actor(req));
      return reply.status(201).send(r);
    });
    app.get('/api/v1/webhooks', { ...can('webhook:manage'), schema: { tags, summary: 'Webhooks of your tenant', security: bearerSecurity } }, async (req) => ({ webhooks: await o.webhooks.listEndpoints(scope(req)) }));
    app.get('/api/v1/webhooks/deliveries', { ...can('webhook:manage'), schema: { tags, summary: 'Deliveries by status (dead = dead-lettered)', security: bearerSecurity, querystring: { type: 'object', properties: { status: { enum: ['pending', 'delivered', 'dead'] } } } } }, async (req) =>
      ({ deliveries: await o.webhooks.deliveries(scope(req), (req.query as { status?: 'pending' | 'delivered' | 'dead' }).status ?? 'dead') }));
    app.post('/api/v1/webhooks/deliveries/:id/retry', { ...can('webhook:manage'), schema: { tags, summary: 'Send a dead-lettered delivery again', security: bearerSecurity, params: idParam } }, async (req, reply) => {
      await o.webhooks.retry(scope(req), (req.params as { id: string }).id, actor(req));
      return reply.status(202).send({ status: 'queued' });
    });
  };
}

async function streamAlerts(o: AlertRoutesOptions, req: FastifyRequest, reply: FastifyReply): Promise<void> {
  const principal = await authenticateRequest(o.tokens, req);
  const tenantScope = tenantScopeOf(principal);
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  res.write(': medtrust alert stream\n\n');
  const unsubscribe = o.events.subscribe('alert.changed', async (e) => {
    if (tenantScope !== null && e.tenantId !== tenantScope) return;
    const alert = await o.alerts.get(tenantScope, e.alertId).catch(() => undefined);
    if (!alert || res.destroyed) return;
    res.write(`id: ${alert.id}:${e.change}\nevent: alert\ndata: ${JSON.stringify({ change: e.change, alert })}\n\n`);
    o.onStreamed?.(alert, Date.now());
  });
  const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
  req.raw.on('close', () => {
    clearInterval(ping);
    unsubscribe();
  });
}
