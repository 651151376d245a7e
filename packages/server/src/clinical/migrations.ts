import type { DomainMigration } from '../db/index.ts';

export const clinicalMigrations: readonly DomainMigration[] = [
  {
    name: '20261123-60-clinical-alerts',
    async up(db, t) {
      await db.schema.createTable('alert_rule')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenant.id'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('priority', 'text', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('condition', 'text', (c) => c.notNull())
        .addColumn('escalate_after_ms', t.int64, (c) => c.notNull())
        .addColumn('escalation_roles', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('updated_at', t.int64, (c) => c.notNull())
        .addColumn('updated_by', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createTable('alert')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenant.id'))
        .addColumn('rule_id', 'text', (c) => c.notNull())
        .addColumn('device_id', 'text')
        .addColumn('patient_id', 'text')
        .addColumn('priority', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('dedupe_key', 'text', (c) => c.notNull())
        .addColumn('raised_at', t.int64, (c) => c.notNull())
        .addColumn('received_at', t.int64, (c) => c.notNull())
        .addColumn('repeat_count', 'integer', (c) => c.notNull())
        .addColumn('acknowledged_at', t.int64)
        .addColumn('acknowledged_by', 'text')
        .addColumn('resolved_at', t.int64)
        .addColumn('resolved_by', 'text')
        .addColumn('condition_cleared_at', t.int64)
        .addColumn('escalation_level', 'integer', (c) => c.notNull())
        .addColumn('escalated_at', t.int64)
        .addColumn('details', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('alert_tenant_state').on('alert').columns(['tenant_id', 'state', 'raised_at']).execute();
      await db.schema.createIndex('alert_dedupe').on('alert').columns(['dedupe_key', 'state']).execute();
      await db.schema.createIndex('alert_device').on('alert').columns(['device_id', 'raised_at']).execute();
      await db.schema.createTable('webhook_endpoint')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenant.id'))
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('secret_enc', t.binary, (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('created_at', t.int64, (c) => c.notNull())
        .execute();
      await db.schema.createTable('webhook_delivery')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('endpoint_id', 'text', (c) => c.notNull().references('webhook_endpoint.id'))
        .addColumn('alert_id', 'text', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('next_attempt_at', t.int64, (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('last_error', 'text')
        .addColumn('created_at', t.int64, (c) => c.notNull())
        .addColumn('delivered_at', t.int64)
        .execute();
      await db.schema.createIndex('webhook_delivery_due').on('webhook_delivery').columns(['status', 'next_attempt_at']).execute();
    },
  },
  {
    name: '20261123-61-clinical-commands',
    async up(db, t) {
      await db.schema.createTable('drug_library')
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenant.id'))
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('entries', 'text', (c) => c.notNull())
        .addColumn('imported_at', t.int64, (c) => c.notNull())
        .addColumn('imported_by', 'text', (c) => c.notNull())
        .addColumn('source_sha256', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('drug_library_pk', ['tenant_id', 'version'])
        .execute();
      await db.schema.createTable('device_command')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenant.id'))
        .addColumn('device_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('request', 'text', (c) => c.notNull())
        .addColumn('care_area', 'text')
        .addColumn('requested_by', 'text', (c) => c.notNull())
        .addColumn('override_reason', 'text')
        .addColumn('confirm_rate_jump', 'integer', (c) => c.notNull())
        .addColumn('second_approver', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('refusal_code', 'text')
        .addColumn('findings', 'text', (c) => c.notNull())
        .addColumn('drug_library_version', 'integer')
        .addColumn('signed', 'text')
        .addColumn('nonce', 'text')
        .addColumn('issued_at', t.int64)
        .addColumn('expires_at', t.int64)
        .addColumn('acked_at', t.int64)
        .addColumn('ack_detail', 'text')
        .addColumn('created_at', t.int64, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('device_command_device').on('device_command').columns(['device_id', 'created_at']).execute();
    },
  },
];
