import type { DomainMigration } from '../db/index.ts';

export const fhirMigrations: readonly DomainMigration[] = [
  {
    name: '20261123-71-fhir-push',
    async up(db, t) {
      await db.schema.createTable('fhir_endpoint')
        .addColumn('tenant_id', 'text', (c) => c.primaryKey().references('tenant.id'))
        .addColumn('base_url', 'text', (c) => c.notNull())
        .addColumn('auth_enc', t.binary)
        .addColumn('cursor_seq', t.int64, (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('next_attempt_at', t.int64, (c) => c.notNull())
        .addColumn('last_error', 'text')
        .addColumn('last_success_at', t.int64)
        .addColumn('updated_at', t.int64, (c) => c.notNull())
        .execute();
    },
  },
];
