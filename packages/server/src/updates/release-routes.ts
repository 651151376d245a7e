import type { Readable } from 'node:stream';
import { CoreError } from '@medtrust/core';
import type { FastifyInstance, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { actorOf } from '../access/index.ts';
import { bearerSecurity } from '../http/index.ts';
import { UpdateError } from './errors.ts';
import type { ReleaseAction } from './release.ts';
import type { ReleaseService } from './release-service.ts';

const STATES = ['draft', 'approved', 'published', 'withdrawn'] as const;
const asList = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Releases are the manufacturer's: only operator-tenant principals may manage them. */
function operatorOnly(request: FastifyRequest): { actor: string; tenantId: string } {
  const p = request.principal!;
  if (p.kind === 'token' && p.tenantKind !== 'operator') throw new CoreError('FORBIDDEN', 'releases are managed by the operator tenant');
  return { actor: actorOf(p), tenantId: p.tenantId };
}

/** Refuses a declared body above the limit before reading a byte of it. */
function checkDeclaredLength(request: FastifyRequest, maxBytes: number): void {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > maxBytes) throw new UpdateError('ARTIFACT_TOO_LARGE', `body exceeds ${maxBytes} bytes`, { details: { maxBytes } });
}

/**
 * `/api/v1/releases`: the artifact is the raw request body (application/octet-stream), streamed
 * to the artifact store; the other fields are query parameters. The SBOM is a second upload.
 */
export function releaseRoutes(opts: { releases: ReleaseService; guards: { readonly manage: preHandlerAsyncHookHandler; readonly read: preHandlerAsyncHookHandler } }) {
  const { releases, guards } = opts;
  return async (app: FastifyInstance): Promise<void> => {
    await app.register(async (scope) => {
      // Streamed, not buffered: the parser hands the request stream to the handler.
      scope.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));
      scope.post<{ Querystring: { model: string | string[]; version: string; fileName: string; hwRev?: string | string[]; notes?: string } }>('/api/v1/releases', {
        preValidation: guards.manage,
        schema: {
          tags: ['releases'], summary: 'Upload a firmware artifact as a draft release', security: bearerSecurity,
          querystring: { type: 'object', required: ['model', 'version', 'fileName'], properties: { model: { type: 'array', items: { type: 'string' } }, version: { type: 'string' }, fileName: { type: 'string' }, hwRev: { type: 'array', items: { type: 'string' } }, notes: { type: 'string' } } },
        },
      }, async (request, reply) => {
        const { actor, tenantId } = operatorOnly(request);
        checkDeclaredLength(request, releases.maxArtifactBytes);
        if (!request.body) throw new UpdateError('ARTIFACT_EMPTY', 'send the artifact as an application/octet-stream body');
        const q = request.query;
        const r = await releases.create({ tenantId, actor, models: asList(q.model), version: q.version, fileName: q.fileName, hardwareRevisions: asList(q.hwRev), notes: q.notes, artifact: request.body as Readable });
        return reply.status(201).send(r);
      });
      scope.post<{ Params: { id: string }; Querystring: { fileName: string } }>('/api/v1/releases/:id/sbom', {
        preValidation: guards.manage,
        schema: { tags: ['releases'], summary: 'Attach an SBOM file (stored as-is) to a draft release', security: bearerSecurity, querystring: { type: 'object', required: ['fileName'], properties: { fileName: { type: 'string' } } } },
      }, async (request) => {
        const { actor } = operatorOnly(request);
        checkDeclaredLength(request, releases.maxSbomBytes);
        if (!request.body) throw new UpdateError('ARTIFACT_EMPTY', 'send the SBOM as an application/octet-stream body');
        return releases.attachSbom(request.params.id, request.body as Readable, request.query.fileName, actor);
      });
    });

    for (const action of ['approve', 'publish', 'withdraw'] as const satisfies readonly ReleaseAction[]) {
      app.post<{ Params: { id: string } }>(`/api/v1/releases/:id/${action}`, {
        preValidation: guards.manage,
        schema: { tags: ['releases'], summary: `${action[0]!.toUpperCase()}${action.slice(1)} a release`, security: bearerSecurity },
      }, async (request) => releases.transition(request.params.id, action, operatorOnly(request).actor));
    }
    app.post<{ Params: { id: string }; Body: { deviceIds: string[] } }>('/api/v1/releases/:id/downgrade-authorisations', {
      preValidation: guards.manage,
      schema: { tags: ['releases'], summary: 'Allow named devices to install this release as a downgrade (signed into TUF metadata)', security: bearerSecurity, body: { type: 'object', required: ['deviceIds'], additionalProperties: false, properties: { deviceIds: { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 1000 } } } },
    }, async (request) => releases.authoriseDowngrade(request.params.id, request.body.deviceIds, operatorOnly(request).actor));
    app.get<{ Querystring: { state?: (typeof STATES)[number]; model?: string } }>('/api/v1/releases', {
      preValidation: guards.read,
      schema: { tags: ['releases'], summary: 'List releases', security: bearerSecurity, querystring: { type: 'object', properties: { state: { type: 'string', enum: [...STATES] }, model: { type: 'string' } } } },
    }, async (request) => ({ releases: await releases.list(request.query) }));
    app.get<{ Params: { id: string } }>('/api/v1/releases/:id', {
      preValidation: guards.read,
      schema: { tags: ['releases'], summary: 'One release', security: bearerSecurity },
    }, async (request) => releases.get(request.params.id));
  };
}
