import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '@medtrust/core';
import { TenantService } from '../access/index.ts';
import { DbAuditLog } from '../audit/index.ts';
import { migrateToLatest } from '../db/index.ts';
import { createTestDatabase, TEST_DIALECTS, type TestDatabase } from '../db/testing.ts';
import { allMigrations } from '../migrations.ts';
import { PatientService } from './patient-service.ts';
import { PhiCipher } from './phi-cipher.ts';

for (const dialect of TEST_DIALECTS) {
  describe(`PatientService (${dialect})`, () => {
    let t: TestDatabase;
    let patients: PatientService;
    let hospital: string;
    let other: string;
    const clock = new ManualClock(Date.UTC(2026, 10, 23, 3, 0, 0));
    before(async () => {
      t = await createTestDatabase(dialect);
      await migrateToLatest(t.db, dialect, allMigrations);
      const tenants = new TenantService({ db: t.db, clock });
      await tenants.ensureOperator();
      hospital = await tenants.create({ kind: 'customer', name: 'St Elsewhere' });
      other = await tenants.create({ kind: 'customer', name: 'County General' });
      const cipher = new PhiCipher(randomBytes(32), randomBytes(32));
      patients = new PatientService({ db: t.db, audit: new DbAuditLog({ db: t.db, dialect, clock }), clock, cipher: async () => cipher });
    });
    after(() => t.close());

    it('seals every PHI field at rest and audits each read', async () => {
      const { id } = await patients.create(hospital, { mrn: 'MRN-0042', family: 'Lovelace', given: ['Ada'], birthDate: '1815-12-10' }, 'user:clerk');
      const raw = await t.db.selectFrom('patient').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      const dump = Buffer.concat([raw.mrn_enc, raw.family_enc, raw.given_enc, raw.birth_date_enc, raw.mrn_hmac]).toString('latin1');
      for (const clear of ['MRN-0042', 'Lovelace', 'Ada', '1815-12-10']) assert.ok(!dump.includes(clear), clear);
      const p = await patients.read(hospital, id, 'user:nurse', 'chart');
      assert.equal(p.family, 'Lovelace');
      assert.deepEqual(p.given, ['Ada']);
      const reads = await t.db.selectFrom('audit_entry').selectAll().where('action', '=', 'phi.patient.read').execute();
      assert.equal(reads.length, 1);
      assert.equal(reads[0]!.actor, 'user:nurse');
      assert.ok(!reads[0]!.details.includes('Lovelace'));
      assert.equal(await patients.findByMrn(hospital, ' mrn-0042 '), id);
      assert.equal(await patients.findByMrn(other, 'MRN-0042'), undefined);
      await assert.rejects(patients.read(other, id, 'user:x', 'chart'), { code: 'PATIENT_NOT_FOUND' });
      await assert.rejects(patients.create(hospital, { mrn: 'MRN-0042', family: 'X', given: [], birthDate: '2000-01-01' }, 'user:clerk'), { code: 'PATIENT_EXISTS' });
    });

    it('refuses a sealed field moved to another patient (AAD binds row and field)', async () => {
      const a = await patients.create(hospital, { mrn: 'A-1', family: 'Alpha', given: [], birthDate: '1990-01-01' }, 'user:clerk');
      const b = await patients.create(hospital, { mrn: 'B-1', family: 'Beta', given: [], birthDate: '1991-01-01' }, 'user:clerk');
      const ra = await t.db.selectFrom('patient').select('family_enc').where('id', '=', a.id).executeTakeFirstOrThrow();
      await t.db.updateTable('patient').set({ family_enc: ra.family_enc }).where('id', '=', b.id).execute();
      await assert.rejects(patients.read(hospital, b.id, 'user:nurse', 'chart'), { code: 'PHI_KEY_UNAVAILABLE' });
    });

    it('refuses malformed patients', async () => {
      await assert.rejects(patients.create(hospital, { mrn: '', family: 'X', given: [], birthDate: '1990-13-45' }, 'user:clerk'), { code: 'PATIENT_INVALID' });
    });

    it('attributes observations by device time to the patient bound then', async () => {
      const p1 = await patients.create(hospital, { mrn: 'P-1', family: 'One', given: [], birthDate: '1970-01-01' }, 'c');
      const p2 = await patients.create(hospital, { mrn: 'P-2', family: 'Two', given: [], birthDate: '1971-01-01' }, 'c');
      const t0 = clock.nowMs();
      const b1 = await patients.bind(hospital, p1.id, 'dev_mon', 'user:nurse', t0);
      await assert.rejects(patients.bind(hospital, p2.id, 'dev_mon', 'user:nurse', t0 + 1000), { code: 'BINDING_CONFLICT' });
      await patients.endBinding(hospital, b1.id, 'user:nurse', t0 + 60_000);
      await patients.bind(hospital, p2.id, 'dev_mon', 'user:nurse', t0 + 60_000);
      assert.equal(await patients.patientAt('dev_mon', t0 - 1), null);
      assert.equal(await patients.patientAt('dev_mon', t0 + 59_999), p1.id);
      assert.equal(await patients.patientAt('dev_mon', t0 + 60_000), p2.id);
      assert.deepEqual((await patients.bindingsOf(hospital, p1.id)).map((b) => b.toMs), [t0 + 60_000]);
      await assert.rejects(patients.bind(other, p1.id, 'dev_other', 'user:x'), { code: 'PATIENT_NOT_FOUND' });
    });
  });
}
