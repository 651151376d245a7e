import { isMedTrustError } from '@medtrust/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { actorOf, tenantOf, tenantScopeOf, type TokenService } from '../access/index.ts';
import type { DeviceRegistry } from '../devices/index.ts';
import { requirePermission, statusOf } from '../http/index.ts';
import type { PatientService } from '../patients/index.ts';
import { platformId, toDevice, toObservation, toPatient } from './fhir-resources.ts';
import { type Cursor, decodeCursor, encodeCursor, parseCodeParams, parseDateParams } from './fhir-search.ts';
import { type ObservationSource, parseObservationId, samplesOfMessage } from './observation-source.ts';

export interface FhirRoutesOptions {
  readonly tokens: TokenService;
  readonly patients: PatientService;
  readonly devices: DeviceRegistry;
  readonly observations: ObservationSource;
  readonly manufacturer: string;
  readonly publicUrl: string;
}

const FHIR_JSON = 'application/fhir+json; charset=utf-8';
const ISSUE_CODE: Record<number, string> = { 400: 'invalid', 401: 'login', 403: 'forbidden', 404: 'not-found', 409: 'conflict', 410: 'deleted' };

function outcome(status: number, diagnostics: string, code?: string): Record<string, unknown> {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: ISSUE_CODE[status] ?? 'exception', diagnostics, ...(code ? { details: { text: code } } : {}) }] };
}

class FhirSearchError extends Error {}

function list(q: unknown, name: string): string[] {
  const v = (q as Record<string, unknown>)[name];
  const one = (x: unknown): string => (typeof x === 'string' || typeof x === 'number' ? String(x) : '');
  return v === undefined ? [] : Array.isArray(v) ? v.map(one) : [one(v)];
}

/**
 * The FHIR R4 read/search facade at /fhir: Patient and Device read, Observation read and search
 * by patient, code and date with paged searchset Bundles. Tenant and PHI rules are the REST
 * API's: Observation and Patient need `patient:read` (clinicians of the patient's hospital).
 */
export function fhirRoutes(o: FhirRoutesOptions) {
  return async (app: FastifyInstance): Promise<void> => {
    await app.register(async (fhir) => {
      fhir.setErrorHandler((error, request, reply) => {
        const code = isMedTrustError(error) ? error.code : undefined;
        const status = error instanceof FhirSearchError ? 400 : code ? statusOf(code) : (error as { statusCode?: number }).statusCode ?? 500;
        if (status >= 500) request.log.error({ err: error }, 'fhir error');
        const message = error instanceof Error ? error.message : 'error';
        void reply.status(status).header('content-type', FHIR_JSON).send(outcome(status, status >= 500 ? 'internal error' : message, code));
      });
      const phi = { preValidation: requirePermission(o.tokens, 'patient:read') };
      const devicesRead = { preValidation: requirePermission(o.tokens, 'device:read') };
      const send = (reply: FastifyReply, body: unknown) => reply.header('content-type', FHIR_JSON).send(body);

      fhir.get('/metadata', { schema: { tags: ['fhir'], summary: 'CapabilityStatement' } }, async (_req, reply) => send(reply, {
        resourceType: 'CapabilityStatement', status: 'active', date: '2026-11-23', kind: 'instance', fhirVersion: '4.0.1', format: ['json'],
        implementation: { description: 'MedTrust FHIR facade', url: `${o.publicUrl}/fhir` },
        rest: [{ mode: 'server', resource: [
          { type: 'Patient', interaction: [{ code: 'read' }] },
          { type: 'Device', interaction: [{ code: 'read' }] },
          { type: 'Observation', interaction: [{ code: 'read' }, { code: 'search-type' }], searchParam: [{ name: 'patient', type: 'reference' }, { name: 'code', type: 'token' }, { name: 'date', type: 'date' }, { name: '_count', type: 'number' }] },
        ] }],
      }));

      fhir.get('/Patient/:id', { ...phi, schema: { tags: ['fhir'], summary: 'Read a Patient (audited PHI read)' } }, async (req, reply) => {
        const scope = tenantOf(req.principal!).tenantId;
        const p = await o.patients.read(scope, platformId((req.params as { id: string }).id), actorOf(req.principal!), 'fhir-read');
        return send(reply, toPatient({ id: p.id, mrn: p.mrn, mrnSystem: p.mrnSystem, family: p.family, given: p.given, birthDate: p.birthDate }));
      });

      fhir.get('/Device/:id', { ...devicesRead, schema: { tags: ['fhir'], summary: 'Read a Device' } }, async (req, reply) => {
        const d = await o.devices.find(platformId((req.params as { id: string }).id));
        const scope = tenantScopeOf(req.principal!);
        if (!d || (scope !== null && d.tenantId !== scope && d.siteId !== scope)) return reply.status(404).header('content-type', FHIR_JSON).send(outcome(404, 'no such Device'));
        return send(reply, toDevice({ id: d.id, serial: d.serial, model: d.model, manufacturer: o.manufacturer, firmwareVersion: d.firmwareVersion, state: d.state }));
      });

      fhir.get('/Observation/:id', { ...phi, schema: { tags: ['fhir'], summary: 'Read an Observation' } }, async (req, reply) => {
        const ref = parseObservationId((req.params as { id: string }).id);
        const msg = ref ? await o.observations.message(ref.deviceId, ref.seq) : undefined;
        const scope = tenantOf(req.principal!).tenantId;
        if (!ref || !msg || msg.tenantId !== scope) return reply.status(404).header('content-type', FHIR_JSON).send(outcome(404, 'no such Observation'));
        const patientId = await o.patients.patientAt(ref.deviceId, msg.ts);
        const s = samplesOfMessage(ref.deviceId, ref.seq, msg.ts, patientId, msg.payload).find((x) => x.kind === ref.kind);
        if (!s) return reply.status(404).header('content-type', FHIR_JSON).send(outcome(404, 'no such Observation'));
        return send(reply, toObservation(s));
      });

      fhir.get('/Observation', { ...phi, schema: { tags: ['fhir'], summary: 'Search Observations by patient, code and date (paged searchset Bundle)' } }, (req, reply) => searchObservations(o, req, reply));
    }, { prefix: '/fhir' });
  };
}

async function searchObservations(o: FhirRoutesOptions, req: FastifyRequest, reply: FastifyReply): Promise<void> {
  const q = req.query as Record<string, unknown>;
  const patientRef = list(q, 'patient')[0] ?? list(q, 'subject')[0];
  if (!patientRef) throw new FhirSearchError('search needs patient=Patient/<id>');
  const patientId = platformId(patientRef.replace(/^Patient\//, ''));
  const tenant = tenantOf(req.principal!).tenantId;
  if (!(await o.patients.exists(tenant, patientId))) {
    void reply.header('content-type', FHIR_JSON).send(bundle([], `${o.publicUrl}${req.url}`, undefined));
    return;
  }
  const range = parseDateParams(list(q, 'date'));
  if (typeof range === 'string') throw new FhirSearchError(range);
  const kinds = parseCodeParams(list(q, 'code'));
  if (typeof kinds === 'string') throw new FhirSearchError(kinds);
  const count = Math.min(Math.max(Number(list(q, '_count')[0] ?? 50) || 50, 1), 200);
  const cursor = decodeCursor(list(q, '_cursor')[0]);
  if (cursor === 'bad') throw new FhirSearchError('bad _cursor');
  const bindings = await o.patients.bindingsOf(tenant, patientId, range.fromMs, range.toMs);
  const out: Array<Record<string, unknown>> = [];
  let next: Cursor | undefined;
  outer: for (let bi = cursor?.b ?? 0; bi < bindings.length; bi++) {
    const b = bindings[bi]!;
    const from = Math.max(b.fromMs, range.fromMs);
    const to = Math.min(b.toMs ?? Number.MAX_SAFE_INTEGER, range.toMs);
    const resume = cursor && bi === cursor.b ? cursor : undefined;
    let after = resume ? { ts: resume.ts, seq: resume.seq - 1 } : undefined;
    let skipIn = resume ? { seq: resume.seq, n: resume.skip } : undefined;
    for (;;) {
      const msgs = await o.observations.messagesOf(b.deviceId, from, to, after, 200);
      for (const m of msgs) {
        const samples = samplesOfMessage(b.deviceId, m.seq, m.ts, patientId, m.payload).filter((s) => !kinds || kinds.has(s.kind));
        const skip = skipIn && skipIn.seq === m.seq ? skipIn.n : 0;
        skipIn = undefined;
        for (let i = skip; i < samples.length; i++) {
          if (out.length === count) {
            next = { b: bi, ts: m.ts, seq: m.seq, skip: i };
            break outer;
          }
          out.push(toObservation(samples[i]!));
        }
      }
      if (msgs.length < 200) break;
      const last = msgs.at(-1)!;
      after = { ts: last.ts, seq: last.seq };
    }
  }
  const self = new URL(`${o.publicUrl}${req.url}`);
  let nextUrl: string | undefined;
  if (next) {
    const n = new URL(self);
    n.searchParams.set('_cursor', encodeCursor(next));
    nextUrl = n.toString();
  }
  void reply.header('content-type', FHIR_JSON).send(bundle(out, self.toString(), nextUrl, o.publicUrl));
}

function bundle(resources: ReadonlyArray<Record<string, unknown>>, self: string, next: string | undefined, base = ''): Record<string, unknown> {
  return {
    resourceType: 'Bundle', type: 'searchset',
    link: [{ relation: 'self', url: self }, ...(next ? [{ relation: 'next', url: next }] : [])],
    entry: resources.map((r) => ({ fullUrl: `${base}/fhir/${String(r.resourceType)}/${String(r.id)}`, resource: r, search: { mode: 'match' } })),
  };
}

