import type { DomainMigration } from '../db/index.ts';

export const patientMigrations: readonly DomainMigration[] = [
  {
    name: '20261123-70-patients-init',
    async up(db, t) {
      await db.schema.createTable('patient')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenant.id'))
        .addColumn('mrn_hmac', t.binary, (c) => c.notNull())
        .addColumn('mrn_enc', t.binary, (c) => c.notNull())
        .addColumn('family_enc', t.binary, (c) => c.notNull())
        .addColumn('given_enc', t.binary, (c) => c.notNull())
        .addColumn('birth_date_enc', t.binary, (c) => c.notNull())
        .addColumn('mrn_system', 'text', (c) => c.notNull())
        .addColumn('created_at', t.int64, (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addUniqueConstraint('patient_tenant_mrn', ['tenant_id', 'mrn_hmac'])
        .execute();
      await db.schema.createTable('patient_binding')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenant.id'))
        .addColumn('patient_id', 'text', (c) => c.notNull().references('patient.id'))
        .addColumn('device_id', 'text', (c) => c.notNull())
        .addColumn('from_ms', t.int64, (c) => c.notNull())
        .addColumn('to_ms', t.int64)
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', t.int64, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('patient_binding_device').on('patient_binding').columns(['device_id', 'from_ms']).execute();
      await db.schema.createIndex('patient_binding_patient').on('patient_binding').columns(['patient_id', 'from_ms']).execute();
    },
  },
];
