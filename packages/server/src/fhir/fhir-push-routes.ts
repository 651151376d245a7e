import type { FastifyInstance } from 'fastify';
import { actorOf, tenantOf, type TokenService } from '../access/index.ts';
import { bearerSecurity, requirePermission } from '../http/index.ts';
import { FhirError } from './errors.ts';
import type { FhirPushService } from './fhir-push-service.ts';

export interface FhirPushRoutesOptions {
  readonly tokens: TokenService;
  readonly push: FhirPushService;
}

const statusSchema = {
  type: 'object',
  properties: { baseUrl: { type: 'string' }, cursorSeq: { type: 'integer' }, backlog: { type: 'integer' }, lastError: { type: ['string', 'null'] }, lastSuccessAt: { type: ['string', 'null'], format: 'date-time' } },
} as const;

/** Checks a push base URL; credentials never travel in the URL, where logs and audit would show them. */
export function checkFhirBaseUrl(raw: string): URL {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new FhirError('FHIR_ENDPOINT_INVALID', 'not a URL');
  }
  const local = ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname);
  if (!(u.protocol === 'https:' || (u.protocol === 'http:' && local))) throw new FhirError('FHIR_ENDPOINT_INVALID', 'the FHIR endpoint must use https (http only to localhost)');
  if (u.username !== '' || u.password !== '') throw new FhirError('FHIR_ENDPOINT_INVALID', 'put credentials in `authorization`, not in the URL');
  return u;
}

/**
 * Per-tenant outbound FHIR push: a hospital admin sets the EHR's base URL and the Authorization
 * header value (sealed at rest with the tenant's key, never returned), and reads the push status.
 */
export function fhirPushRoutes(o: FhirPushRoutesOptions) {
  return async (app: FastifyInstance): Promise<void> => {
    const guard = { preValidation: requirePermission(o.tokens, 'fhir-push:manage') };
    const tags = ['fhir'];
    const status = async (tenantId: string) => {
      const s = await o.push.status(tenantId);
      if (!s) throw new FhirError('FHIR_ENDPOINT_NOT_FOUND', 'no FHIR push endpoint configured');
      return { ...s, lastSuccessAt: s.lastSuccessAt === null ? null : new Date(s.lastSuccessAt).toISOString() };
    };
    app.put('/api/v1/fhir-push', {
      ...guard,
      schema: {
        tags, summary: 'Set your tenant\'s FHIR push endpoint (transaction Bundles of Observations); credentials are stored encrypted and never returned', security: bearerSecurity,
        body: {
          type: 'object', required: ['baseUrl'], additionalProperties: false,
          properties: {
            baseUrl: { type: 'string', minLength: 1, maxLength: 2000, description: 'FHIR base URL, https (http only to localhost)' },
            authorization: { type: 'string', minLength: 1, maxLength: 4096, description: 'Authorization header value sent to the EHR (e.g. `Bearer ...`)' },
            fromStart: { type: 'boolean', description: 'Push stored history too, not only messages stored from now on' },
          },
        },
        response: { 200: statusSchema },
      },
    }, async (req) => {
      const b = req.body as { baseUrl: string; authorization?: string; fromStart?: boolean };
      const u = checkFhirBaseUrl(b.baseUrl);
      const tenantId = tenantOf(req.principal!).tenantId;
      await o.push.configure(tenantId, u.toString(), b.authorization, actorOf(req.principal!), b.fromStart ?? false);
      return status(tenantId);
    });
    app.get('/api/v1/fhir-push', { ...guard, schema: { tags, summary: 'Your tenant\'s FHIR push endpoint and progress (backlog, last error)', security: bearerSecurity, response: { 200: statusSchema } } }, async (req) =>
      status(tenantOf(req.principal!).tenantId));
  };
}
