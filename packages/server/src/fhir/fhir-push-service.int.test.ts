import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '@medtrust/core';
import { TenantService } from '../access/index.ts';
import { DbAuditLog } from '../audit/index.ts';
import { migrateToLatest } from '../db/index.ts';
import { createTestDatabase, TEST_DIALECTS, type TestDatabase } from '../db/testing.ts';
import { allMigrations } from '../migrations.ts';
import { PatientService, PhiCipher } from '../patients/index.ts';
import { TelemetryStore } from '../telemetry/index.ts';
import { FhirPushService } from './fhir-push-service.ts';
import { fhirSchemaErrors } from './fhir-schema.ts';

type Entry = { resource: { resourceType: string; id: string }; request: { method: string; url: string } };

for (const dialect of TEST_DIALECTS) {
  describe(`FhirPushService (${dialect})`, () => {
    let t: TestDatabase;
    let server: Server;
    let up = false;
    const received = new Map<string, number>();
    const auths = new Set<string>();
    let push: FhirPushService;
    let store: TelemetryStore;
    let hospital: string;
    const clock = new ManualClock(Date.UTC(2026, 10, 23, 4, 0, 0));

    before(async () => {
      t = await createTestDatabase(dialect);
      await migrateToLatest(t.db, dialect, allMigrations);
      const tenants = new TenantService({ db: t.db, clock });
      await tenants.ensureOperator();
      hospital = await tenants.create({ kind: 'customer', name: 'St Elsewhere' });
      const audit = new DbAuditLog({ db: t.db, dialect, clock });
      const cipher = new PhiCipher(randomBytes(32), randomBytes(32));
      const patients = new PatientService({ db: t.db, audit, clock, cipher: async () => cipher });
      const p = await patients.create(hospital, { mrn: 'MRN-9', family: 'Franklin', given: ['Rosalind'], birthDate: '1960-07-25' }, 'test');
      await patients.bind(hospital, p.id, 'dev_mon', 'test', clock.nowMs() - 3_600_000);
      store = new TelemetryStore({ db: t.db, clock });
      const key = randomBytes(32);
      push = new FhirPushService({ db: t.db, audit, patients, clock, secretKey: async () => key, settleMs: 1000, batchMessages: 3 });
      server = createServer((req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          if (!up) {
            res.statusCode = 503;
            res.end();
            return;
          }
          auths.add(String(req.headers.authorization));
          const bundle = JSON.parse(body) as { type: string; entry: Entry[] };
          assert.equal(bundle.type, 'transaction');
          assert.deepEqual(fhirSchemaErrors(bundle), []);
          for (const e of bundle.entry) {
            assert.equal(e.request.method, 'PUT');
            received.set(`${e.resource.resourceType}/${e.resource.id}`, (received.get(`${e.resource.resourceType}/${e.resource.id}`) ?? 0) + 1);
          }
          res.setHeader('content-type', 'application/fhir+json');
          res.end(JSON.stringify({ resourceType: 'Bundle', type: 'transaction-response' }));
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      await push.configure(hospital, `http://127.0.0.1:${(server.address() as AddressInfo).port}/fhir`, 'Bearer ehr-token', 'test');
    });
    after(async () => {
      server.close();
      await t.close();
    });

    it('delivers every vital once the EHR is back, as idempotent transaction PUTs, losing nothing', async () => {
      for (let i = 0; i < 7; i++) {
        await store.submit({ deviceId: 'dev_mon', tenantId: hospital, transport: 'mqtt', message: { v: 1, id: `v-${i}`, ts: clock.nowMs() - 60_000 + i, kind: 'vitals', vitals: { heartRate: { value: 60 + i, unit: '/min' }, spo2: { value: 95, unit: '%' } } } });
      }
      await store.submit({ deviceId: 'dev_unbound', tenantId: hospital, transport: 'mqtt', message: { v: 1, id: 'u-1', ts: clock.nowMs(), kind: 'vitals', vitals: { heartRate: { value: 80, unit: '/min' } } } });
      assert.equal(await push.pushDue(), 0, 'too fresh to be settled');
      clock.advance(2_000);
      for (let i = 0; i < 4; i++) {
        assert.equal(await push.pushDue(), 0, 'EHR down');
        clock.advance(60_000);
      }
      assert.ok((await push.status(hospital))!.backlog >= 7);
      assert.match(String((await push.status(hospital))!.lastError), /503/);
      up = true;
      clock.advance(300_000);
      let total = 0;
      for (let i = 0; i < 10; i++) {
        total += await push.pushDue();
        clock.advance(300_000);
      }
      assert.equal(total, 14);
      const observations = [...received.keys()].filter((k) => k.startsWith('Observation/'));
      assert.equal(observations.length, 14, 'every heart rate and SpO2 of the bound device, none of the unbound');
      assert.ok([...received.values()].every((n) => n >= 1));
      assert.ok(received.has(`Patient/${[...received.keys()].find((k) => k.startsWith('Patient/'))!.slice(8)}`));
      assert.deepEqual([...auths], ['Bearer ehr-token']);
      assert.equal((await push.status(hospital))!.backlog, 0);
      const raw = await t.db.selectFrom('fhir_endpoint').select('auth_enc').executeTakeFirstOrThrow();
      assert.ok(!raw.auth_enc!.toString('latin1').includes('ehr-token'), 'credential sealed at rest');
    });
  });
}
