import { createHash } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { CoreError } from '@medtrust/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { HttpFastPath } from '../http/index.ts';
import type { DeviceSession } from './device-authenticator.ts';
import type { HttpsDeviceSessions } from './https-device-sessions.ts';
import type { TokenBuckets } from './token-bucket.ts';

export const DEVICE_DESIRED_PATH = '/device/v1/updates/desired';
export const DEVICE_UPDATE_STATUS_PATH = '/device/v1/update-status';
/** As over MQTT (`parseUpdateStatus`): a status message is small. */
const MAX_STATUS_BYTES = 2048;

/**
 * What the device HTTPS API needs of the updates domain (`UpdateStatusChannel` implements it; the
 * gateway does not import updates/). The same messages and rules as MQTT `update-status`.
 */
export interface DeviceUpdateService {
  /** The device's desired state, exactly the MQTT `updates/desired` payload. */
  desiredMessage(deviceId: string): Promise<object>;
  /** One `update-status` payload: a check answers the desired state; refusals throw a coded error. */
  receive(device: DeviceSession, payload: Buffer): Promise<{ readonly kind: 'desired'; readonly message: object } | { readonly kind: 'recorded' }>;
}

const desiredSchema = {
  type: 'object',
  description: '`{"v":1,"kind":"none"}`, `{"v":1,"kind":"wait","campaignId","reason"}` or `{"v":1,"kind":"install","campaignId","releaseId","version","target","emergency"}` (docs/updates.md)',
  required: ['v', 'kind'],
  properties: {
    v: { const: 1 }, kind: { enum: ['none', 'wait', 'install'] }, campaignId: { type: 'string' }, reason: { enum: ['phase', 'maintenance-window', 'paused', 'approval'] },
    releaseId: { type: 'string' }, version: { type: 'string' }, target: { type: 'string' }, emergency: { type: 'boolean' },
  },
} as const;

/** The body of a desired-state answer and its strong validator (a device polling an unchanged state gets a 304). */
function desiredAnswer(message: object): { readonly body: string; readonly etag: string } {
  const body = JSON.stringify(message);
  return { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}

const DESIRED_CACHE_CONTROL = 'private, no-cache';
const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * `GET /device/v1/updates/desired` before Fastify, for a request on a keep-alive connection whose
 * device session is settled (`HttpsDeviceSessions.sessionOf`) and within its rate limit. Why by
 * hand: polling the desired state is the device HTTPS API's most frequent request, and Fastify's
 * per-request work (routing, hooks, reply object, child logger) cost as much as the answer. The
 * answer is the route's, byte for byte. The first request on a connection, one due for
 * re-authentication or past its certificate's notAfter, and one over the rate limit go to the
 * route below (which authenticates, audits and answers the coded errors); so does a request whose
 * lookup fails, through `fallback`. Not counted in the HTTP duration histogram, as the other fast paths.
 */
export function deviceDesiredFastPath(opts: { sessions: HttpsDeviceSessions; buckets: TokenBuckets; updates: DeviceUpdateService }): HttpFastPath {
  return (req, res, fallback) => {
    if (req.method !== 'GET' || req.url !== DEVICE_DESIRED_PATH) return false;
    const session = opts.sessions.sessionOf(req.socket as TLSSocket);
    // Over the limit: the route refuses it (take() does not consume when it refuses).
    if (!session || opts.buckets.take(session.deviceId) > 0) return false;
    opts.updates.desiredMessage(session.deviceId).then((message) => {
      const { body, etag } = desiredAnswer(message);
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, { 'etag': etag, 'cache-control': DESIRED_CACHE_CONTROL });
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(body), 'etag': etag, 'cache-control': DESIRED_CACHE_CONTROL });
      res.end(body);
    }, fallback).catch(() => res.destroy());
    return true;
  };
}

/**
 * `GET /device/v1/updates/desired` and `POST /device/v1/update-status` for devices without MQTT,
 * on the :8443 listener: mTLS with the LDevID (authenticated once per connection), the device's
 * own token bucket, and the updates domain's logic shared with MQTT.
 */
export function deviceUpdateRoutes(opts: { sessions: HttpsDeviceSessions; buckets: TokenBuckets; updates: DeviceUpdateService }) {
  const admit = async (request: FastifyRequest, reply: FastifyReply): Promise<DeviceSession> => {
    const session = await opts.sessions.authenticate(request, reply);
    // The device's one budget for everything it sends (docs/device-protocol.md, Rate limit); a
    // check is cheap to repeat later, so it is refused at once rather than made to wait.
    const waitMs = opts.buckets.take(session.deviceId);
    if (waitMs > 0) {
      void reply.header('retry-after', String(Math.ceil(waitMs / 1000)));
      throw new CoreError('RATE_LIMITED', 'device request rate exceeded', { details: { retryAfterMs: waitMs } });
    }
    return session;
  };
  const sendDesired = (request: FastifyRequest, reply: FastifyReply, message: object): FastifyReply => {
    const { body, etag } = desiredAnswer(message);
    void reply.header('etag', etag).header('cache-control', DESIRED_CACHE_CONTROL);
    if (request.headers['if-none-match'] === etag) return reply.status(304).send();
    return reply.status(200).header('content-type', JSON_TYPE).send(body);
  };

  return async (app: FastifyInstance): Promise<void> => {
    app.get(DEVICE_DESIRED_PATH, {
      schema: {
        tags: ['device'],
        summary: 'The device\'s desired update state (as MQTT devices/{id}/updates/desired); mTLS with the LDevID',
        description: 'ETag on the body; `If-None-Match` with it answers 304. Counts against the device\'s rate limit (429 RATE_LIMITED with Retry-After).',
        response: { 200: desiredSchema, 304: { type: 'null', description: 'unchanged since the ETag sent in If-None-Match' } },
      },
    }, async (request, reply) => {
      const session = await admit(request, reply);
      return sendDesired(request, reply, await opts.updates.desiredMessage(session.deviceId));
    });

    // Its own scope: the body reaches the shared parser as bytes, as an MQTT payload does.
    await app.register(async (scope) => {
      scope.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: MAX_STATUS_BYTES }, (_request, body, done) => done(null, body));
      scope.post(DEVICE_UPDATE_STATUS_PATH, {
        schema: {
          tags: ['device'],
          summary: 'Report update status, or ask for the desired state (as MQTT devices/{id}/update-status); mTLS with the LDevID',
          description: 'Body `{"v":1,"kind":"check"}` -> 200 with the desired state; `{"v":1,"campaignId","kind","version"[,"reason":"therapy-running"][,"code"]}` -> 202 once recorded. A malformed report or one on a campaign the device is not in: 400 UPDATE_STATUS_INVALID.',
          body: {
            type: 'object', required: ['v', 'kind'],
            properties: { v: { const: 1 }, kind: { enum: ['check', 'pending', 'downloading', 'installing', 'installed', 'failed', 'rolled-back'] }, campaignId: { type: 'string' }, version: { type: 'string' }, reason: { const: 'therapy-running' }, code: { type: 'string' } },
          },
          response: { 200: desiredSchema, 202: { type: 'object', properties: { outcome: { const: 'recorded' } } } },
        },
        // The body schema documents; parseUpdateStatus checks (refusals are UPDATE_STATUS_INVALID, as over MQTT).
        validatorCompiler: () => () => true,
      }, async (request, reply) => {
        const session = await admit(request, reply);
        const r = await opts.updates.receive(session, request.body as Buffer);
        if (r.kind === 'desired') return sendDesired(request, reply, r.message);
        return reply.status(202).send({ outcome: 'recorded' });
      });
    });
  };
}
