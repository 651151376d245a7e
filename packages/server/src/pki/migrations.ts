import type { DomainMigration } from '../db/index.ts';

export const pkiMigrations: readonly DomainMigration[] = [
  {
    name: '20261123-06-pki-init',
    async up(db, t) {
      await db.schema.createTable('ca')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('key_ref', 'text', (c) => c.notNull())
        .addColumn('certificate_der', t.binary, (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('issuer_name', 'text')
        .addColumn('key_id', t.binary, (c) => c.notNull())
        .addColumn('name_sha1', t.binary, (c) => c.notNull())
        .addColumn('not_after', t.int64, (c) => c.notNull())
        .addColumn('created_at', t.int64, (c) => c.notNull())
        .addColumn('crl_number', t.int64, (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.createTable('certificate')
        .addColumn('serial', 'text', (c) => c.primaryKey())
        .addColumn('ca_name', 'text', (c) => c.notNull().references('ca.name'))
        .addColumn('profile', 'text', (c) => c.notNull())
        .addColumn('device_id', 'text', (c) => c.references('device.id'))
        .addColumn('tenant_id', 'text')
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('not_before', t.int64, (c) => c.notNull())
        .addColumn('not_after', t.int64, (c) => c.notNull())
        .addColumn('spki_sha256', t.binary, (c) => c.notNull())
        .addColumn('der', t.binary, (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('revoked_at', t.int64)
        .addColumn('revocation_reason', 'integer')
        .addColumn('superseded_by', 'text')
        .addColumn('created_at', t.int64, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('certificate_device').on('certificate').columns(['device_id', 'status']).execute();
      await db.schema.createIndex('certificate_spki').on('certificate').column('spki_sha256').execute();
      await db.schema.createIndex('certificate_ca_status').on('certificate').columns(['ca_name', 'status']).execute();
      await db.schema.createTable('enroll_token')
        .addColumn('username', 'text', (c) => c.primaryKey())
        .addColumn('device_id', 'text', (c) => c.notNull().references('device.id'))
        .addColumn('password_hash', t.binary, (c) => c.notNull())
        .addColumn('salt', t.binary, (c) => c.notNull())
        .addColumn('expires_at', t.int64, (c) => c.notNull())
        .addColumn('used_at', t.int64)
        .addColumn('created_at', t.int64, (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createTable('provisioning_batch')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('model', 'text', (c) => c.notNull())
        .addColumn('hardware_revision', 'text', (c) => c.notNull())
        .addColumn('count', 'integer', (c) => c.notNull())
        .addColumn('serials', 'text', (c) => c.notNull())
        .addColumn('mode', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', t.int64, (c) => c.notNull())
        .execute();
    },
  },
];
