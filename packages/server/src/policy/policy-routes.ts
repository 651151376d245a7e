import { CoreError } from '@medtrust/core';
import type { FastifyInstance, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { actorOf, type Permission, type Principal, tenantOf, tenantScopeOf } from '../access/index.ts';
import { bearerSecurity, type RouteModule } from '../http/index.ts';
import type { DecisionStore } from './decision-store.ts';
import { PolicyError } from './errors.ts';
import type { PolicyParser } from './parse-policy.ts';
import type { PolicyDocument } from './policy-document.ts';
import type { PolicyEngine } from './policy-engine.ts';
import type { PolicyStore } from './policy-store.ts';

export interface PolicyRouteOptions {
  readonly store: PolicyStore;
  readonly decisions: DecisionStore;
  readonly engine: PolicyEngine;
  readonly parser: PolicyParser;
  /** A preValidation hook that admits only principals holding the permission (sets request.principal). */
  readonly guard: (permission: Permission) => preHandlerAsyncHookHandler;
}

const POLICY_BODY_LIMIT_BYTES = 512 * 1024;
const documentBody = { type: 'object', required: ['document'], additionalProperties: false, properties: { document: { type: ['object', 'string'] } } } as const;
const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 64 } } } as const;

function principal(request: FastifyRequest): Principal {
  const p = request.principal;
  if (!p) throw new CoreError('UNAUTHENTICATED', 'send Authorization: Bearer <token>');
  return p;
}

/** REST: /api/v1/policies (CRUD, versions, dry run) and /api/v1/policy-decisions, tenant-scoped. */
export function policyRoutes(opts: PolicyRouteOptions): RouteModule {
  const { store, decisions, engine, parser } = opts;
  // A string is JSON or YAML text; an object is the parsed document.
  const parse = (document: unknown): PolicyDocument => (typeof document === 'string' ? parser.parseText(document) : parser.validate(document));
  return (app: FastifyInstance) => {
    app.get('/api/v1/policies', {
      preValidation: opts.guard('policy:read'),
      schema: { tags: ['policy'], summary: 'Policies visible to the caller (latest version of each)', security: bearerSecurity },
    }, async (request) => ({ policies: await store.list(tenantScopeOf(principal(request))) }));

    app.post<{ Body: { document: unknown } }>('/api/v1/policies', {
      preValidation: opts.guard('policy:manage'), bodyLimit: POLICY_BODY_LIMIT_BYTES,
      schema: { tags: ['policy'], summary: 'Save a policy (JSON object, or JSON/YAML text) as the next version of the caller tenant\'s policy of that name', security: bearerSecurity, body: documentBody },
    }, async (request, reply) => {
      const p = principal(request);
      const doc = parse(request.body.document);
      return reply.status(201).send(await store.save(tenantOf(p).tenantId, doc, actorOf(p)));
    });

    app.post<{ Body: { document: unknown } }>('/api/v1/policies/dry-run', {
      preValidation: opts.guard('policy:read'), bodyLimit: POLICY_BODY_LIMIT_BYTES,
      schema: { tags: ['policy'], summary: 'Which devices a policy would affect now and which actions would run; changes nothing', security: bearerSecurity, body: documentBody },
    }, async (request) => {
      const p = principal(request);
      const doc = parse(request.body.document);
      const existing = (await store.list(tenantOf(p).tenantId)).find((x) => x.name === doc.name);
      const hits = await engine.dryRun(doc, tenantOf(p).tenantId, existing?.id);
      return { policy: doc.name, devices: new Set(hits.map((h) => h.deviceId)).size, hits };
    });

    app.get<{ Params: { id: string } }>('/api/v1/policies/:id', {
      preValidation: opts.guard('policy:read'),
      schema: { tags: ['policy'], summary: 'A policy with all its versions, newest first', security: bearerSecurity, params: idParams },
    }, async (request) => {
      const versions = await store.versions(tenantScopeOf(principal(request)), request.params.id);
      return { ...versions[0], versions: versions.map((v) => ({ version: v.version, enabled: v.enabled, createdAt: v.createdAt, createdBy: v.createdBy })) };
    });

    app.put<{ Params: { id: string }; Body: { document: unknown } }>('/api/v1/policies/:id', {
      preValidation: opts.guard('policy:manage'), bodyLimit: POLICY_BODY_LIMIT_BYTES,
      schema: { tags: ['policy'], summary: 'Save a new version of a policy (the name must stay the same)', security: bearerSecurity, params: idParams, body: documentBody },
    }, async (request) => {
      const p = principal(request);
      const current = await store.get(tenantScopeOf(p), request.params.id);
      const doc = parse(request.body.document);
      if (doc.name !== current.name) throw new PolicyError('POLICY_INVALID', 'the name of a policy cannot change; create a new policy instead', { details: { problems: [`/name: must be ${current.name}`] } });
      return store.save(current.tenantId, doc, actorOf(p));
    });

    app.delete<{ Params: { id: string } }>('/api/v1/policies/:id', {
      preValidation: opts.guard('policy:manage'),
      schema: { tags: ['policy'], summary: 'Disable a policy (saved as a new, disabled version; history is kept)', security: bearerSecurity, params: idParams },
    }, async (request) => {
      const p = principal(request);
      return store.disable(tenantScopeOf(p), request.params.id, actorOf(p));
    });

    app.get<{ Querystring: { device?: string; policy?: string; limit?: number } }>('/api/v1/policy-decisions', {
      preValidation: opts.guard('policy:read'),
      schema: {
        tags: ['policy'], summary: 'Recorded decisions (rule fired, facts seen, why, actions), newest first', security: bearerSecurity,
        querystring: { type: 'object', additionalProperties: false, properties: { device: { type: 'string', maxLength: 64 }, policy: { type: 'string', maxLength: 64 }, limit: { type: 'integer' } } },
      },
    }, async (request) => {
      const q = request.query;
      return { decisions: await decisions.list(tenantScopeOf(principal(request)), { ...(q.device ? { deviceId: q.device } : {}), ...(q.policy ? { policyId: q.policy } : {}), ...(q.limit !== undefined ? { limit: q.limit } : {}) }) };
    });
  };
}
