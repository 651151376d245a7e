import type { FastifyInstance, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { CoreError } from '@medtrust/core';
import { actorOf, type Permission, type Principal } from '../access/index.ts';
import { bearerSecurity, type RouteModule } from '../http/index.ts';
import { VulnError } from './errors.ts';
import { addFeedContent, emptyBatch } from './feeds/read-feed-files.ts';
import { scopeOf, type VulnScope } from './vuln-scope.ts';
import type { VulnService } from './vuln-service.ts';

export interface VulnRouteOptions {
  readonly vulns: VulnService;
  /** A preValidation hook that admits only principals holding the permission (sets request.principal). */
  readonly guard: (permission: Permission) => preHandlerAsyncHookHandler;
}

const SBOM_BODY_LIMIT_BYTES = 16 * 1024 * 1024;
const FEED_BODY_LIMIT_BYTES = 64 * 1024 * 1024;
const name = { type: 'string', minLength: 1, maxLength: 128 } as const;

function principal(request: FastifyRequest): Principal {
  const p = request.principal;
  if (!p) throw new CoreError('UNAUTHENTICATED', 'send Authorization: Bearer <token>');
  return p;
}

/** A hospital may read a firmware's data only while one of its devices runs it. */
async function assertFirmwareVisible(vulns: VulnService, scope: VulnScope, model: string, firmwareVersion: string): Promise<void> {
  if (scope.kind === 'all') return;
  if ((await vulns.devicesOn({ model, firmwareVersion }, scope)).length === 0) throw new VulnError('SBOM_NOT_FOUND', `no SBOM for ${model} ${firmwareVersion}`);
}

/** REST: /api/v1/sboms, /feeds/import, /vulnerabilities, /devices/:id/vulnerabilities, /device-models/:model/risk-profile. */
export function vulnRoutes(opts: VulnRouteOptions): RouteModule {
  const { vulns } = opts;
  return (app: FastifyInstance) => {
    app.post<{ Body: { model: string; firmwareVersion: string; document: unknown } }>('/api/v1/sboms', {
      preValidation: opts.guard('sbom:manage'), bodyLimit: SBOM_BODY_LIMIT_BYTES,
      schema: {
        tags: ['vulnerabilities'], summary: 'Import a CycloneDX 1.4-1.6 or SPDX 2.3 JSON SBOM for a model and firmware version (replaces the previous one)', security: bearerSecurity,
        body: { type: 'object', required: ['model', 'firmwareVersion', 'document'], additionalProperties: false, properties: { model: name, firmwareVersion: name, document: { type: ['object', 'string'] } } },
      },
    }, async (request, reply) => {
      const { model, firmwareVersion, document } = request.body;
      const text = typeof document === 'string' ? document : JSON.stringify(document);
      const p = principal(request);
      const r = await vulns.importSbom({ model, firmwareVersion, text, actor: actorOf(p), tenantId: p.tenantId });
      return reply.status(201).send(r);
    });

    app.get<{ Params: { model: string; version: string } }>('/api/v1/sboms/:model/:version', {
      preValidation: opts.guard('vuln:read'),
      schema: { tags: ['vulnerabilities'], summary: 'The SBOM of a firmware as CycloneDX 1.6 JSON', security: bearerSecurity, params: { type: 'object', required: ['model', 'version'], properties: { model: name, version: name } } },
    }, async (request, reply) => {
      const { model, version } = request.params;
      await assertFirmwareVisible(vulns, scopeOf(principal(request)), model, version);
      return reply.header('content-type', 'application/vnd.cyclonedx+json; version=1.6').send(await vulns.exportSbom({ model, firmwareVersion: version }));
    });

    app.post<{ Body: { files: Array<{ name: string; content?: string; contentBase64?: string }> } }>('/api/v1/feeds/import', {
      preValidation: opts.guard('vuln:manage'), bodyLimit: FEED_BODY_LIMIT_BYTES,
      schema: {
        tags: ['vulnerabilities'], summary: 'Import feed files (OSV JSON, NVD CVE API 2.0 JSON, CISA KEV JSON, EPSS CSV, zip of OSV records); bad records are counted and reported', security: bearerSecurity,
        body: {
          type: 'object', required: ['files'], additionalProperties: false,
          properties: { files: { type: 'array', minItems: 1, maxItems: 1000, items: { type: 'object', required: ['name'], additionalProperties: false, properties: { name: { type: 'string', minLength: 1, maxLength: 256 }, content: { type: 'string' }, contentBase64: { type: 'string' } } } } },
        },
      },
    }, async (request) => {
      const batch = emptyBatch();
      for (const f of request.body.files) {
        if (f.content === undefined && f.contentBase64 === undefined) throw new VulnError('FEED_FORMAT_UNKNOWN', `${f.name}: give content or contentBase64`);
        addFeedContent(batch, f.name, f.contentBase64 !== undefined ? Buffer.from(f.contentBase64, 'base64') : Buffer.from(f.content ?? '', 'utf8'));
      }
      return vulns.importFeed(batch, actorOf(principal(request)));
    });

    app.get<{ Querystring: { model?: string; version?: string } }>('/api/v1/vulnerabilities', {
      preValidation: opts.guard('vuln:read'),
      schema: { tags: ['vulnerabilities'], summary: 'Vulnerabilities of a firmware (model + version), or the fleet summary per firmware in the caller\'s scope', security: bearerSecurity, querystring: { type: 'object', additionalProperties: false, properties: { model: name, version: name } } },
    }, async (request) => {
      const { model, version } = request.query;
      const scope = scopeOf(principal(request));
      if ((model === undefined) !== (version === undefined)) throw new VulnError('VULN_QUERY_INVALID', 'give both model and version, or neither');
      if (model === undefined || version === undefined) return { firmwares: await vulns.fleetSummary(scope) };
      await assertFirmwareVisible(vulns, scope, model, version);
      const devices = await vulns.devicesOn({ model, firmwareVersion: version }, scope);
      return { model, firmwareVersion: version, devices: devices.length, vulnerabilities: await vulns.firmwareVulnerabilities({ model, firmwareVersion: version }) };
    });

    app.get<{ Params: { id: string } }>('/api/v1/devices/:id/vulnerabilities', {
      preValidation: opts.guard('vuln:read'),
      schema: { tags: ['vulnerabilities'], summary: 'A device\'s vulnerabilities (its current firmware) and its risk score with the explanation', security: bearerSecurity, params: { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } } },
    }, async (request) => vulns.deviceExposure(request.params.id, scopeOf(principal(request))));

    app.put<{ Body: { model: string; firmwareVersion: string; vulnId: string; status: string; justification?: string; detail?: string } }>('/api/v1/vex', {
      preValidation: opts.guard('vuln:manage'),
      schema: {
        tags: ['vulnerabilities'], summary: 'Record the manufacturer\'s analysis of a vulnerability in a firmware (not_affected needs a justification)', security: bearerSecurity,
        body: { type: 'object', required: ['model', 'firmwareVersion', 'vulnId', 'status'], additionalProperties: false, properties: { model: name, firmwareVersion: name, vulnId: name, status: { type: 'string' }, justification: { type: 'string' }, detail: { type: 'string', maxLength: 4000 } } },
      },
    }, async (request) => vulns.vex.record(request.body, actorOf(principal(request))));

    app.get<{ Params: { model: string }; Querystring: { format?: 'cyclonedx' | 'csaf' } }>('/api/v1/vex/:model', {
      preValidation: opts.guard('vuln:read'),
      schema: { tags: ['vulnerabilities'], summary: 'VEX of a model as CycloneDX 1.6 (default) or CSAF 2.0 csaf_vex', security: bearerSecurity, params: { type: 'object', required: ['model'], properties: { model: name } }, querystring: { type: 'object', additionalProperties: false, properties: { format: { type: 'string', enum: ['cyclonedx', 'csaf'] } } } },
    }, async (request, reply) => {
      if (request.query.format === 'csaf') return reply.header('content-type', 'application/json').send(await vulns.vex.exportCsaf(request.params.model));
      return reply.header('content-type', 'application/vnd.cyclonedx+json; version=1.6').send(await vulns.vex.exportCycloneDx(request.params.model));
    });

    app.post<{ Params: { id: string } }>('/api/v1/vulnerabilities/:id/advisory', {
      preValidation: opts.guard('vuln:manage'),
      schema: { tags: ['vulnerabilities'], summary: 'Create the CSAF 2.0 security advisory of a vulnerability (validated) and notify every tenant with an affected device; returns it with the notices sent', security: bearerSecurity, params: { type: 'object', required: ['id'], properties: { id: name } } },
    }, async (request) => vulns.vex.createAdvisory(request.params.id, actorOf(principal(request))));

    app.get('/api/v1/vulnerabilities/sites', {
      preValidation: opts.guard('vuln:read'),
      schema: { tags: ['vulnerabilities'], summary: 'Exposure per site in the caller\'s scope: devices, and how many run firmware with an affected, KEV-listed or undecided vulnerability', security: bearerSecurity },
    }, async (request) => ({ sites: await vulns.siteSummary(scopeOf(principal(request))) }));

    app.get<{ Querystring: { unacknowledged?: boolean; limit?: number } }>('/api/v1/advisory-notices', {
      preValidation: opts.guard('vuln:read'),
      schema: { tags: ['vulnerabilities'], summary: 'Security advisories sent to the caller\'s hospital (newest first), with its affected firmwares and device counts', security: bearerSecurity, querystring: { type: 'object', additionalProperties: false, properties: { unacknowledged: { type: 'boolean' }, limit: { type: 'integer', minimum: 1, maximum: 500 } } } },
    }, async (request) => ({ notices: await vulns.notices.list(scopeOf(principal(request)), request.query) }));

    app.get<{ Params: { id: string } }>('/api/v1/advisory-notices/:id', {
      preValidation: opts.guard('vuln:read'),
      schema: { tags: ['vulnerabilities'], summary: 'One advisory notice with its CSAF 2.0 document', security: bearerSecurity, params: { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } } },
    }, async (request) => vulns.notices.get(scopeOf(principal(request)), request.params.id));

    app.post<{ Params: { id: string } }>('/api/v1/advisory-notices/:id/acknowledge', {
      preValidation: opts.guard('device:manage'),
      schema: { tags: ['vulnerabilities'], summary: 'Acknowledge an advisory notice for the caller\'s hospital (audited)', security: bearerSecurity, params: { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } } },
    }, async (request) => {
      const p = principal(request);
      return vulns.notices.acknowledge(scopeOf(p), request.params.id, actorOf(p));
    });

    app.put<{ Params: { model: string }; Body: { criticality: string; exposure: string; endOfSupport?: string } }>('/api/v1/device-models/:model/risk-profile', {
      preValidation: opts.guard('vuln:manage'),
      schema: {
        tags: ['vulnerabilities'], summary: 'Set a model\'s clinical criticality, exposure and end of support (risk inputs)', security: bearerSecurity,
        params: { type: 'object', required: ['model'], properties: { model: name } },
        body: { type: 'object', required: ['criticality', 'exposure'], additionalProperties: false, properties: { criticality: { type: 'string' }, exposure: { type: 'string' }, endOfSupport: { type: 'string', format: 'date' } } },
      },
    }, async (request, reply) => {
      const eos = request.body.endOfSupport === undefined ? null : Date.parse(`${request.body.endOfSupport}T00:00:00Z`);
      await vulns.setModelProfile(request.params.model, { criticality: request.body.criticality, exposure: request.body.exposure, endOfSupportAtMs: eos }, actorOf(principal(request)));
      return reply.status(204).send();
    });
  };
}
