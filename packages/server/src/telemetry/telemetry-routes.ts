import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify';
import { CoreError } from '@medtrust/core';
import type { RouteModule } from '../http/index.ts';
import { bearerSecurity } from '../http/index.ts';
import type { PresenceService } from './presence-service.ts';
import type { TelemetryQuery } from './telemetry-query.ts';

/** The caller's view of a device, decided by the caller's tenant (see `telemetryRoutes`). */
export type DeviceAccess = { readonly kind: 'none' } | { readonly kind: 'device-only' } | { readonly kind: 'full' };

export interface TelemetryRouteOptions {
  readonly query: TelemetryQuery;
  readonly presence: PresenceService;
  readonly readGuard: preHandlerAsyncHookHandler;
  readonly presenceGuard: preHandlerAsyncHookHandler;
  /** Looks the device up for this request's principal: model and access level, or undefined. */
  readonly access: (request: Parameters<preHandlerAsyncHookHandler>[0], deviceId: string) => Promise<{ access: DeviceAccess; model: string } | undefined>;
}

// Device-health series are not PHI: the operator may see them for any device it runs.
const NON_PHI_METRICS = new Set(['battery_pct']);

/** GET /api/v1/devices/:id/telemetry and /presence, tenant-scoped. */
export function telemetryRoutes(opts: TelemetryRouteOptions): RouteModule {
  return (app: FastifyInstance) => {
    app.get<{ Params: { id: string }; Querystring: { from?: number; to?: number; metric?: string; bucketMs?: number } }>('/api/v1/devices/:id/telemetry', {
      preValidation: opts.readGuard,
      schema: {
        tags: ['telemetry'], summary: 'Time series of one metric (raw or downsampled avg/min/max per bucket), or the stored messages when no metric is given', security: bearerSecurity,
        params: { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } },
        querystring: { type: 'object', additionalProperties: false, properties: { from: { type: 'integer', minimum: 0 }, to: { type: 'integer', minimum: 0 }, metric: { type: 'string', maxLength: 64 }, bucketMs: { type: 'integer', minimum: 1 } } },
      },
    }, async (request) => {
      const found = await opts.access(request, request.params.id);
      // Another tenant's device answers exactly like a missing one.
      if (!found || found.access.kind === 'none') throw new CoreError('NOT_FOUND', 'no such device');
      const to = request.query.to ?? Date.now();
      const from = request.query.from ?? to - 3_600_000;
      const { metric, bucketMs } = request.query;
      if (found.access.kind === 'device-only' && (metric === undefined || !NON_PHI_METRICS.has(metric))) {
        throw new CoreError('FORBIDDEN', 'patient data is visible only to the device\'s own tenant', { details: { allowedMetrics: [...NON_PHI_METRICS] } });
      }
      if (metric === undefined) return { deviceId: request.params.id, from, to, messages: await opts.query.messages({ deviceId: request.params.id, fromMs: from, toMs: to }) };
      const points = await opts.query.series({ deviceId: request.params.id, metric, fromMs: from, toMs: to, ...(bucketMs !== undefined ? { bucketMs } : {}) });
      return { deviceId: request.params.id, metric, from, to, ...(bucketMs !== undefined ? { bucketMs } : {}), points };
    });

    app.get<{ Params: { id: string } }>('/api/v1/devices/:id/presence', {
      preValidation: opts.presenceGuard,
      schema: { tags: ['telemetry'], summary: 'Online/late/offline, last seen, heartbeat interval and recent connections', security: bearerSecurity, params: { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } } },
    }, async (request) => {
      const found = await opts.access(request, request.params.id);
      if (!found || found.access.kind === 'none') throw new CoreError('NOT_FOUND', 'no such device');
      const [presence, connections] = await Promise.all([opts.presence.get(request.params.id, found.model), opts.presence.history(request.params.id, 20)]);
      return { ...presence, connections };
    });
  };
}
