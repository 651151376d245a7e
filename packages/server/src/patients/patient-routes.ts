import type { FastifyInstance, FastifyRequest } from 'fastify';
import { actorOf, tenantOf, type TokenService } from '../access/index.ts';
import { bearerSecurity, requirePermission } from '../http/index.ts';
import type { PatientInput, PatientService } from './patient-service.ts';

const idParam = { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } } as const;

/** Patients (PHI: clinicians of the hospital only, every read audited) and device bindings. */
export function patientRoutes(o: { tokens: TokenService; patients: PatientService }) {
  return async (app: FastifyInstance): Promise<void> => {
    const can = (p: Parameters<typeof requirePermission>[1]) => ({ preValidation: requirePermission(o.tokens, p) });
    const tenant = (req: FastifyRequest): string => tenantOf(req.principal!).tenantId;
    const actor = (req: FastifyRequest): string => actorOf(req.principal!);
    const tags = ['patients'];

    app.post('/api/v1/patients', {
      ...can('patient:manage'),
      schema: { tags, summary: 'Register a patient (fields sealed at rest)', security: bearerSecurity, body: { type: 'object', required: ['mrn', 'family', 'birthDate'], additionalProperties: false, properties: { mrn: { type: 'string', maxLength: 64 }, mrnSystem: { type: 'string', maxLength: 200 }, family: { type: 'string', maxLength: 200 }, given: { type: 'array', items: { type: 'string', maxLength: 200 }, maxItems: 5 }, birthDate: { type: 'string', maxLength: 10 } } } },
    }, async (req, reply) => {
      const b = req.body as PatientInput;
      return reply.status(201).send(await o.patients.create(tenant(req), { ...b, given: b.given ?? [] }, actor(req)));
    });
    app.get('/api/v1/patients/:id', { ...can('patient:read'), schema: { tags, summary: 'Read a patient (audited)', security: bearerSecurity, params: idParam } }, async (req) =>
      o.patients.read(tenant(req), (req.params as { id: string }).id, actor(req), 'api-read'));
    app.get('/api/v1/patients', { ...can('patient:read'), schema: { tags, summary: 'Find a patient by MRN', security: bearerSecurity, querystring: { type: 'object', required: ['mrn'], properties: { mrn: { type: 'string', maxLength: 64 } } } } }, async (req, reply) => {
      const id = await o.patients.findByMrn(tenant(req), (req.query as { mrn: string }).mrn);
      return id ? { id } : reply.status(404).send({ error: { code: 'PATIENT_NOT_FOUND', message: 'no patient with that MRN', requestId: String(req.id) } });
    });
    app.get('/api/v1/patients/:id/bindings', { ...can('patient:read'), schema: { tags, summary: 'Devices bound to a patient over time', security: bearerSecurity, params: idParam } }, async (req) =>
      ({ bindings: await o.patients.bindingsOf(tenant(req), (req.params as { id: string }).id) }));
    app.post('/api/v1/patients/:id/bindings', {
      ...can('patient:manage'),
      schema: { tags, summary: 'Bind a device to the patient from now (or `from`)', security: bearerSecurity, params: idParam, body: { type: 'object', required: ['deviceId'], additionalProperties: false, properties: { deviceId: { type: 'string', maxLength: 64 }, from: { type: 'string', format: 'date-time' } } } },
    }, async (req, reply) => {
      const b = req.body as { deviceId: string; from?: string };
      return reply.status(201).send(await o.patients.bind(tenant(req), (req.params as { id: string }).id, b.deviceId, actor(req), b.from ? Date.parse(b.from) : undefined));
    });
    app.post('/api/v1/bindings/:id/end', { ...can('patient:manage'), schema: { tags, summary: 'End a device-patient binding now', security: bearerSecurity, params: idParam } }, async (req) =>
      o.patients.endBinding(tenant(req), (req.params as { id: string }).id, actor(req)));
  };
}
