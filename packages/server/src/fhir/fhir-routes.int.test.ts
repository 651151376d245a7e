import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { Registry } from 'prom-client';
import { TenantService, TokenService } from '../access/index.ts';
import { DbAuditLog } from '../audit/index.ts';
import { migrateToLatest } from '../db/index.ts';
import { createTestDatabase, TEST_DIALECTS, type TestDatabase } from '../db/testing.ts';
import { DeviceRegistry } from '../devices/index.ts';
import { LocalEventBus } from '../events/index.ts';
import { buildHttpApp } from '../http/index.ts';
import { allMigrations } from '../migrations.ts';
import { PatientService, PhiCipher, patientRoutes } from '../patients/index.ts';
import { TelemetryStore } from '../telemetry/index.ts';
import { fhirId } from './fhir-resources.ts';
import { fhirRoutes } from './fhir-routes.ts';
import { fhirSchemaErrors } from './fhir-schema.ts';
import { ObservationSource } from './observation-source.ts';

type Bundle = { resourceType: string; link: Array<{ relation: string; url: string }>; entry?: Array<{ resource: Record<string, unknown> }> };

for (const dialect of TEST_DIALECTS) {
  describe(`FHIR facade (${dialect})`, () => {
    let t: TestDatabase;
    let app: FastifyInstance;
    let clinician: string;
    let otherClinician: string;
    let operator: string;
    let patientId: string;
    let deviceId: string;
    const t0 = Date.UTC(2026, 10, 22, 8, 0, 0);

    before(async () => {
      t = await createTestDatabase(dialect);
      await migrateToLatest(t.db, dialect, allMigrations);
      const audit = new DbAuditLog({ db: t.db, dialect });
      const tenants = new TenantService({ db: t.db });
      const operatorTenant = await tenants.ensureOperator();
      const hospital = await tenants.create({ kind: 'customer', name: 'St Elsewhere' });
      const other = await tenants.create({ kind: 'customer', name: 'County General' });
      const tokens = new TokenService({ db: t.db, audit });
      clinician = (await tokens.create({ tenantId: hospital, role: 'clinician', name: 'c', createdBy: 'test' })).token;
      otherClinician = (await tokens.create({ tenantId: other, role: 'clinician', name: 'c', createdBy: 'test' })).token;
      operator = (await tokens.create({ tenantId: operatorTenant, role: 'operator-admin', name: 'o', createdBy: 'test' })).token;
      const devices = new DeviceRegistry({ db: t.db, audit, events: new LocalEventBus() });
      deviceId = (await devices.create({ serial: 'MON-1', model: 'MonitorX', hardwareRevision: 'A', tenantId: hospital }, 'test')).id;
      const cipher = new PhiCipher(randomBytes(32), randomBytes(32));
      const patients = new PatientService({ db: t.db, audit, cipher: async () => cipher });
      patientId = (await patients.create(hospital, { mrn: 'MRN-7', family: 'Curie', given: ['Marie'], birthDate: '1967-11-07' }, 'test')).id;
      await patients.bind(hospital, patientId, deviceId, 'test', t0);
      const store = new TelemetryStore({ db: t.db });
      for (let i = 0; i < 3; i++) {
        await store.submit({ deviceId, tenantId: hospital, transport: 'mqtt', message: { v: 1, id: `m-${i}`, ts: t0 + i * 60_000, kind: 'vitals', vitals: { heartRate: { value: 70 + i, unit: '/min' }, spo2: { value: 97, unit: '%' }, nibp: { systolic: 120, diastolic: 80, unit: 'mm[Hg]' } } } });
      }
      app = await buildHttpApp({ logger: pino({ level: 'silent' }), metrics: new Registry(), version: 'test', ready: async () => true, routes: [
        fhirRoutes({ tokens, patients, devices, observations: new ObservationSource({ db: t.db }), manufacturer: 'MedTrust Devices', publicUrl: 'http://localhost:8080' }),
        patientRoutes({ tokens, patients }),
      ] });
    });
    after(async () => {
      await app.close();
      await t.close();
    });

    const get = (url: string, token: string) => app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });

    it('pages through every Observation of the patient, each valid FHIR R4', async () => {
      let url: string | undefined = `/fhir/Observation?patient=Patient/${fhirId(patientId)}&_count=2`;
      const seen: Array<Record<string, unknown>> = [];
      while (url) {
        const res = await get(url, clinician);
        assert.equal(res.statusCode, 200);
        assert.match(String(res.headers['content-type']), /application\/fhir\+json/);
        const b = res.json<Bundle>();
        assert.deepEqual(fhirSchemaErrors(b), []);
        for (const e of b.entry ?? []) seen.push(e.resource);
        const next = b.link.find((l) => l.relation === 'next')?.url;
        url = next ? next.replace('http://localhost:8080', '') : undefined;
      }
      assert.equal(seen.length, 9);
      assert.equal(new Set(seen.map((r) => r.id)).size, 9, 'no repeats across pages');
      for (const r of seen) assert.deepEqual(fhirSchemaErrors(r), [], String(r.id));
      const one = await get(`/fhir/Observation/${String(seen[0]!.id)}`, clinician);
      assert.equal(one.statusCode, 200);
      assert.equal(one.json<{ subject: { reference: string } }>().subject.reference, `Patient/${fhirId(patientId)}`);
    });

    it('filters by code and date', async () => {
      const hr = (await get(`/fhir/Observation?patient=Patient/${fhirId(patientId)}&code=http://loinc.org|8867-4`, clinician)).json<Bundle>();
      assert.equal(hr.entry?.length, 3);
      const later = (await get(`/fhir/Observation?patient=Patient/${fhirId(patientId)}&code=8867-4&date=ge${new Date(t0 + 60_000).toISOString()}`, clinician)).json<Bundle>();
      assert.equal(later.entry?.length, 2);
      const bad = await get(`/fhir/Observation?patient=Patient/${fhirId(patientId)}&date=yesterday`, clinician);
      assert.equal(bad.statusCode, 400);
      assert.equal(bad.json<{ resourceType: string }>().resourceType, 'OperationOutcome');
    });

    it('reads Patient and Device', async () => {
      const p = await get(`/fhir/Patient/${fhirId(patientId)}`, clinician);
      assert.equal(p.statusCode, 200);
      assert.deepEqual(fhirSchemaErrors(p.json()), []);
      const d = await get(`/fhir/Device/${fhirId(deviceId)}`, clinician);
      assert.deepEqual(fhirSchemaErrors(d.json()), []);
      assert.equal((await get('/fhir/metadata', clinician)).statusCode, 200);
    });

    describe('when another tenant or the operator asks', () => {
      it('gives no PHI: 404 or an empty Bundle for another hospital, 403 for the operator', async () => {
        assert.equal((await get(`/fhir/Patient/${fhirId(patientId)}`, otherClinician)).statusCode, 404);
        assert.equal((await get(`/fhir/Observation?patient=Patient/${fhirId(patientId)}`, otherClinician)).json<Bundle>().entry?.length ?? 0, 0);
        assert.equal((await get(`/fhir/Device/${fhirId(deviceId)}`, otherClinician)).statusCode, 404);
        const obs = (await get(`/fhir/Observation?patient=Patient/${fhirId(patientId)}`, clinician)).json<Bundle>().entry![0]!.resource;
        assert.equal((await get(`/fhir/Observation/${String(obs.id)}`, otherClinician)).statusCode, 404);
        assert.equal((await get(`/fhir/Patient/${fhirId(patientId)}`, operator)).statusCode, 403);
        assert.equal((await get(`/fhir/Observation?patient=Patient/${fhirId(patientId)}`, operator)).statusCode, 403);
        assert.equal((await get(`/api/v1/patients/${patientId}`, operator)).statusCode, 403);
      });
    });
  });
}
