import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RouteModule } from '../http/index.ts';
import type { DeviceMessageIngest } from './device-message-ingest.ts';
import { type DeviceUpdateService, deviceUpdateRoutes } from './device-update-routes.ts';
import type { HttpsDeviceSessions } from './https-device-sessions.ts';
import type { TokenBuckets } from './token-bucket.ts';

export const DEVICE_MESSAGES_PATH = '/device/v1/messages';
const MAX_BATCH = 100;

/**
 * The device HTTPS API on the :8443 listener, for devices that do not speak MQTT: the same
 * messages, validation and durable store; with `updates`, the desired state and update status
 * (device-update-routes.ts). The listener requests client certificates without requiring them,
 * so these routes authenticate the LDevID themselves, once per TLS connection (`sessions`).
 */
export function deviceHttpsRoutes(opts: { sessions: HttpsDeviceSessions; ingest: DeviceMessageIngest; buckets: TokenBuckets; updates?: DeviceUpdateService }): RouteModule {
  return async (app: FastifyInstance) => {
    app.post(DEVICE_MESSAGES_PATH, {
      schema: {
        tags: ['device'],
        summary: 'Send one device message (object) or up to 100 (array); mTLS with the LDevID',
        description: 'Messages as in docs/device-protocol.md. 202 after the commit; a single refused message gets its coded error; an array gets per-message results.',
        body: { anyOf: [{ type: 'object' }, { type: 'array', maxItems: MAX_BATCH, items: { type: 'object' } }] },
      },
      bodyLimit: 2 * 1024 * 1024,
    }, async (request: FastifyRequest, reply: FastifyReply) => {
      const session = await opts.sessions.authenticate(request, reply);
      const body = request.body;
      if (!Array.isArray(body)) {
        const r = await opts.ingest.handle(session, body, 'https');
        if (r.kind === 'refused') throw r.error;
        return reply.status(202).send({ id: r.messageId, outcome: r.kind });
      }
      // In order, one after another: a device's buffered readings keep their order.
      const results = [];
      for (const m of body as unknown[]) {
        const r = await opts.ingest.handle(session, m, 'https');
        results.push(r.kind === 'refused' ? { id: r.messageId, outcome: 'refused', error: { code: r.error.code, message: r.error.message, ...(r.error.details ? { details: r.error.details } : {}) } } : { id: r.messageId, outcome: r.kind });
      }
      return reply.status(202).send({ results });
    });
    if (opts.updates) await deviceUpdateRoutes({ sessions: opts.sessions, buckets: opts.buckets, updates: opts.updates })(app);
  };
}
