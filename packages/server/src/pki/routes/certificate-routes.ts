import type { FastifyInstance, FastifyRequest } from 'fastify';
import { actorOf, type Principal, type TokenService } from '../../access/index.ts';
import { bearerSecurity, requirePermission, type RouteModule } from '../../http/index.ts';
import { CRL_REASON_NAMES, type CertificateQueries, type CertificateScope, type RevocationService } from '../revocation/index.ts';

export interface CertificateRouteDeps {
  readonly tokens: TokenService;
  readonly queries: CertificateQueries;
  readonly revocation: RevocationService;
}

const nullableString = { type: ['string', 'null'] } as const;
const certificateSchema = {
  type: 'object',
  properties: {
    serial: { type: 'string', description: 'Lower-case hex of the DER serial number' },
    caName: { type: 'string' },
    profile: { type: 'string', enum: ['idevid', 'ldevid', 'tls-server', 'ocsp-signer', 'ca'] },
    deviceId: nullableString,
    tenantId: nullableString,
    subject: { type: 'string' },
    notBefore: { type: 'string', format: 'date-time' },
    notAfter: { type: 'string', format: 'date-time' },
    status: { type: 'string', enum: ['valid', 'revoked', 'superseded'] },
    revokedAt: { type: ['string', 'null'], format: 'date-time' },
    revocationReason: nullableString,
    supersededBy: nullableString,
    createdAt: { type: 'string', format: 'date-time' },
  },
  required: ['serial', 'caName', 'profile', 'subject', 'notBefore', 'notAfter', 'status', 'createdAt'],
} as const;
const serialParams = { type: 'object', properties: { serial: { type: 'string', pattern: '^[0-9A-Fa-f:]{1,64}$' } }, required: ['serial'] } as const;

/** The operator sees every certificate; a customer or site principal only its own tenant's. */
export function scopeOf(p: Principal): CertificateScope {
  if (p.kind === 'system' || p.tenantKind === 'operator') return { kind: 'all' };
  return { kind: 'tenant', tenantId: p.tenantId };
}

const principalOf = (req: FastifyRequest): Principal => {
  // requirePermission ran first and set it; a missing principal is a wiring bug, not a client error.
  if (!req.principal) throw new Error('route reached without authentication');
  return req.principal;
};

/** REST: read and revoke certificates under /api/v1/certificates. */
export function certificateRoutes(deps: CertificateRouteDeps): RouteModule {
  return async (app: FastifyInstance) => {
    const read = requirePermission(deps.tokens, 'certificate:read');
    const revoke = requirePermission(deps.tokens, 'certificate:revoke');

    app.get<{ Querystring: { deviceId?: string; status?: 'valid' | 'revoked' | 'superseded'; limit?: number } }>('/api/v1/certificates', {
      preValidation: read,
      schema: {
        tags: ['certificates'], summary: 'List certificates, newest first (certificate:read)', security: bearerSecurity,
        querystring: { type: 'object', additionalProperties: false, properties: { deviceId: { type: 'string', maxLength: 64 }, status: { type: 'string', enum: ['valid', 'revoked', 'superseded'] }, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } } },
        response: { 200: { type: 'object', properties: { certificates: { type: 'array', items: certificateSchema } } } },
      },
    }, async (req) => ({ certificates: await deps.queries.list(req.query, scopeOf(principalOf(req))) }));

    app.get<{ Params: { serial: string } }>('/api/v1/certificates/:serial', {
      preValidation: read,
      schema: {
        tags: ['certificates'], summary: 'One certificate with its PEM (certificate:read); another tenant\'s is 404', security: bearerSecurity, params: serialParams,
        response: { 200: { ...certificateSchema, properties: { ...certificateSchema.properties, pem: { type: 'string' } } } },
      },
    }, async (req) => deps.queries.get(req.params.serial, scopeOf(principalOf(req))));

    app.post<{ Params: { serial: string }; Body: { reason: string } }>('/api/v1/certificates/:serial/revoke', {
      preValidation: revoke,
      schema: {
        tags: ['certificates'], summary: 'Revoke a certificate for an RFC 5280 reason (certificate:revoke)', security: bearerSecurity, params: serialParams,
        // The reason is checked by the service (REVOCATION_REASON_INVALID), the enum documents it.
        body: { type: 'object', additionalProperties: false, properties: { reason: { type: 'string', maxLength: 64, description: `One of ${CRL_REASON_NAMES.join(', ')}` } }, required: ['reason'] },
        response: { 200: { type: 'object', properties: { serial: { type: 'string' }, caName: { type: 'string' }, deviceId: nullableString, reason: { type: 'string' }, revokedAt: { type: 'string', format: 'date-time' } } } },
      },
    }, async (req) => {
      const p = principalOf(req);
      const r = await deps.revocation.revoke(req.params.serial, req.body.reason, actorOf(p), scopeOf(p));
      return { serial: r.serial, caName: r.caName, deviceId: r.deviceId, reason: r.reason, revokedAt: new Date(r.revokedAt).toISOString() };
    });
  };
}
