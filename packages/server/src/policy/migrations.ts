import type { DomainMigration } from '../db/index.ts';

export const policyMigrations: readonly DomainMigration[] = [
  {
    name: '20261123-80-policy-init',
    async up(db, t) {
      await db.schema.createTable('policy_version')
        .addColumn('policy_id', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('document', 'text', (c) => c.notNull())
        .addColumn('created_at', t.int64, (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('policy_version_pk', ['policy_id', 'version'])
        .execute();
      await db.schema.createIndex('policy_version_name').on('policy_version').columns(['tenant_id', 'name', 'version']).unique().execute();
      await db.schema.createTable('policy_decision')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('policy_id', 'text', (c) => c.notNull())
        .addColumn('policy_version', 'integer', (c) => c.notNull())
        .addColumn('policy_name', 'text', (c) => c.notNull())
        .addColumn('rule', 'text', (c) => c.notNull())
        .addColumn('trigger', 'text', (c) => c.notNull())
        .addColumn('device_id', 'text')
        .addColumn('facts', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('actions', 'text', (c) => c.notNull())
        .addColumn('dedupe_key', 'text', (c) => c.notNull().unique())
        .addColumn('decided_at', t.int64, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('policy_decision_device').on('policy_decision').columns(['device_id', 'decided_at']).execute();
      await db.schema.createIndex('policy_decision_tenant').on('policy_decision').columns(['tenant_id', 'decided_at']).execute();
      await db.schema.createTable('policy_schedule')
        .addColumn('policy_id', 'text', (c) => c.primaryKey())
        .addColumn('last_run_at', t.int64, (c) => c.notNull())
        .execute();
      await db.schema.createTable('policy_device_flag')
        .addColumn('device_id', 'text', (c) => c.notNull())
        .addColumn('flag', 'text', (c) => c.notNull())
        .addColumn('policy_id', 'text', (c) => c.notNull())
        .addColumn('set_at', t.int64, (c) => c.notNull())
        .addPrimaryKeyConstraint('policy_device_flag_pk', ['device_id', 'flag'])
        .execute();
    },
  },
];
