import type { FastifyInstance, FastifyRequest } from 'fastify';
import { actorOf, tenantOf, tenantScopeOf, type TokenService } from '../../access/index.ts';
import { bearerSecurity, requirePermission } from '../../http/index.ts';
import type { DrugLibraryService } from '../drug-library/drug-library-service.ts';
import type { CommandService } from './command-service.ts';
import type { InfusionCommand } from './command-safety.ts';

export interface CommandRoutesOptions {
  readonly tokens: TokenService;
  readonly commands: CommandService;
  readonly libraries: DrugLibraryService;
  /** PEM of the command-signing public key devices pin. */
  readonly signingKeyPem: () => Promise<string>;
}

const idParam = { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } } as const;
const commandSchema = {
  oneOf: [
    { type: 'object', additionalProperties: false, required: ['kind', 'drug', 'dose'], properties: { kind: { const: 'infusion.program' }, drug: { type: 'string', maxLength: 200 }, concentration: { type: 'number' }, dose: { type: 'number' }, vtbiMl: { type: 'number', minimum: 0 }, weightKg: { type: 'number', exclusiveMinimum: 0, maximum: 500 } } },
    { type: 'object', additionalProperties: false, required: ['kind', 'dose'], properties: { kind: { const: 'infusion.change-rate' }, dose: { type: 'number' }, weightKg: { type: 'number', exclusiveMinimum: 0, maximum: 500 } } },
    { type: 'object', additionalProperties: false, required: ['kind'], properties: { kind: { const: 'infusion.stop' } } },
  ],
} as const;

/** Drug library import and safe infusion commands (request, second approval, history). */
export function commandRoutes(o: CommandRoutesOptions) {
  return async (app: FastifyInstance): Promise<void> => {
    const can = (p: Parameters<typeof requirePermission>[1]) => ({ preValidation: requirePermission(o.tokens, p) });
    // Tenant isolation before validation: another tenant's device is 404 whatever the body says.
    const onDevice = (p: Parameters<typeof requirePermission>[1]) => ({
      preValidation: [requirePermission(o.tokens, p), async (req: FastifyRequest) => o.commands.assertDeviceVisible(scope(req), (req.params as { id: string }).id)],
    });
    const scope = (req: FastifyRequest): string | null => tenantScopeOf(req.principal!);
    const tags = ['commands'];
    app.addContentTypeParser(['text/csv', 'text/plain'], { parseAs: 'string', bodyLimit: 2 * 1024 * 1024 }, (_req, body, done) => done(null, body));

    app.post('/api/v1/drug-library', {
      ...can('drug-library:manage'), bodyLimit: 2 * 1024 * 1024,
      schema: { tags, summary: 'Import a new drug library version (CSV with the documented header, or JSON); all-or-nothing', security: bearerSecurity },
    }, async (req, reply) => {
      const csv = String(req.headers['content-type'] ?? '').startsWith('text/');
      const text = csv ? String(req.body) : JSON.stringify(req.body);
      const lib = await o.libraries.import(tenantOf(req.principal!).tenantId, text, csv ? 'csv' : 'json', actorOf(req.principal!));
      return reply.status(201).send({ version: lib.version, entries: lib.entries.length });
    });
    app.get('/api/v1/drug-library', { ...can('drug-library:read'), schema: { tags, summary: 'The active drug library of your tenant', security: bearerSecurity } }, async (req, reply) => {
      const lib = await o.libraries.active(tenantOf(req.principal!).tenantId);
      return lib ? lib : reply.status(404).send({ error: { code: 'NO_DRUG_LIBRARY', message: 'no drug library imported', requestId: String(req.id) } });
    });

    app.post('/api/v1/devices/:id/commands', {
      ...onDevice('command:request'),
      schema: {
        tags, summary: 'Request an infusion command; checked against the drug library (409 with the code when an override, confirmation or second approval is needed)', security: bearerSecurity, params: idParam,
        body: { type: 'object', required: ['careArea', 'command'], additionalProperties: false, properties: { careArea: { type: 'string', maxLength: 100 }, command: commandSchema, overrideReason: { type: 'string', maxLength: 500 }, confirmRateJump: { type: 'boolean' } } },
      },
    }, async (req, reply) => {
      const b = req.body as { careArea: string; command: InfusionCommand; overrideReason?: string; confirmRateJump?: boolean };
      const v = await o.commands.request({ tenantScope: scope(req), actor: actorOf(req.principal!), deviceId: (req.params as { id: string }).id, careArea: b.careArea, command: b.command, overrideReason: b.overrideReason, confirmRateJump: b.confirmRateJump });
      return reply.status(v.status === 'pending-approval' ? 202 : 201).send(v);
    });
    app.get('/api/v1/devices/:id/commands', { ...onDevice('command:read'), schema: { tags, summary: 'Commands sent to a device, newest first', security: bearerSecurity, params: idParam } }, async (req) =>
      ({ commands: await o.commands.list(scope(req), (req.params as { id: string }).id) }));
    app.get('/api/v1/commands/:id', { ...can('command:read'), schema: { tags, summary: 'One command', security: bearerSecurity, params: idParam } }, async (req) => o.commands.get(scope(req), (req.params as { id: string }).id));
    app.post('/api/v1/commands/:id/approve', { ...can('command:approve'), schema: { tags, summary: 'Second clinician approves a held high-alert command', security: bearerSecurity, params: idParam } }, async (req) =>
      o.commands.approve(scope(req), (req.params as { id: string }).id, actorOf(req.principal!)));
    app.get('/pki/command-signing-key.pem', { schema: { tags, summary: 'The public key devices pin to verify commands' } }, async (_req, reply) =>
      reply.header('content-type', 'application/x-pem-file').send(await o.signingKeyPem()));
  };
}
