import type { TLSSocket } from 'node:tls';
import { CoreError, isMedTrustError } from '@medtrust/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuditLog } from '../audit/index.ts';
import type { RouteModule } from '../http/index.ts';
import type { DeviceAuthenticator, DeviceSession } from './device-authenticator.ts';
import type { DeviceMessageIngest } from './device-message-ingest.ts';
import type { GatewayMetrics } from './gateway-metrics.ts';

export const DEVICE_MESSAGES_PATH = '/device/v1/messages';
const MAX_BATCH = 100;

/**
 * The device HTTPS API on the :8443 listener, for devices that do not speak MQTT: the same
 * messages, validation and durable store. The listener requests client certificates without
 * requiring them, so this route authenticates the LDevID itself.
 */
export function deviceHttpsRoutes(opts: { authenticator: DeviceAuthenticator; ingest: DeviceMessageIngest; audit: AuditLog; metrics: GatewayMetrics }): RouteModule {
  return (app: FastifyInstance) => {
    app.post(DEVICE_MESSAGES_PATH, {
      schema: {
        tags: ['device'],
        summary: 'Send one device message (object) or up to 100 (array); mTLS with the LDevID',
        description: 'Messages as in docs/device-protocol.md. 202 after the commit; a single refused message gets its coded error; an array gets per-message results.',
        body: { anyOf: [{ type: 'object' }, { type: 'array', maxItems: MAX_BATCH, items: { type: 'object' } }] },
      },
      bodyLimit: 2 * 1024 * 1024,
    }, async (request: FastifyRequest, reply: FastifyReply) => {
      const session = await authenticate(request, opts);
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
  };
}

async function authenticate(request: FastifyRequest, opts: { authenticator: DeviceAuthenticator; audit: AuditLog; metrics: GatewayMetrics }): Promise<DeviceSession> {
  const socket = request.raw.socket as Partial<TLSSocket>;
  if (typeof socket.getPeerCertificate !== 'function') throw new CoreError('UNAUTHENTICATED', 'the device API is served over TLS only');
  try {
    return await opts.authenticator.authenticate(socket.getPeerCertificate().raw);
  } catch (e) {
    const code = isMedTrustError(e) ? e.code : 'INTERNAL';
    opts.metrics.authFailures.inc({ transport: 'https', code });
    await opts.audit.append({ actor: 'device:unauthenticated', action: 'gateway.connect', outcome: 'denied', details: { code, transport: 'https', remoteAddress: request.ip } }).catch(() => undefined);
    throw e;
  }
}
