import type { DomainMigration } from '../db/index.ts';

export const deviceMigrations: readonly DomainMigration[] = [
  {
    name: '20261123-05-devices-init',
    async up(db, t) {
      await db.schema.createTable('device')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('serial', 'text', (c) => c.notNull())
        .addColumn('model', 'text', (c) => c.notNull())
        .addColumn('hardware_revision', 'text', (c) => c.notNull())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenant.id'))
        .addColumn('site_id', 'text', (c) => c.references('tenant.id'))
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('firmware_version', 'text')
        .addColumn('batch_id', 'text')
        .addColumn('created_at', t.int64, (c) => c.notNull())
        .addColumn('updated_at', t.int64, (c) => c.notNull())
        .addUniqueConstraint('device_model_serial', ['model', 'serial'])
        .execute();
      await db.schema.createIndex('device_serial').on('device').column('serial').execute();
      await db.schema.createIndex('device_tenant_state').on('device').columns(['tenant_id', 'state']).execute();
    },
  },
  {
    name: '20261123-90-devices-dashboard-indexes',
    async up(db) {
      // The dashboard's fleet overview groups and pages by model and site within a tenant.
      await db.schema.createIndex('device_tenant_model').on('device').columns(['tenant_id', 'model', 'id']).execute();
      await db.schema.createIndex('device_site').on('device').columns(['site_id', 'state']).execute();
      await db.schema.createIndex('device_model_state').on('device').columns(['model', 'state']).execute();
    },
  },
];
