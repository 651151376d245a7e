import type { DomainMigration } from '../db/index.ts';

export const auditMigrations: readonly DomainMigration[] = [
  {
    name: '20261123-02-audit-init',
    async up(db, t) {
      await db.schema.createTable('audit_entry')
        .addColumn('seq', t.int64, (c) => c.primaryKey())
        .addColumn('at', t.int64, (c) => c.notNull())
        .addColumn('tenant_id', 'text')
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('target', 'text')
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('details', 'text', (c) => c.notNull())
        .addColumn('prev_hash', t.binary, (c) => c.notNull())
        .addColumn('hash', t.binary, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('audit_entry_target').on('audit_entry').columns(['target', 'seq']).execute();
    },
  },
  {
    name: '20261123-30-audit-checkpoint',
    async up(db, t) {
      await db.schema.createTable('audit_checkpoint')
        .addColumn('tree_size', t.int64, (c) => c.primaryKey())
        .addColumn('root_hash', t.binary, (c) => c.notNull())
        .addColumn('at', t.int64, (c) => c.notNull())
        .addColumn('signature', t.binary, (c) => c.notNull())
        .addColumn('key_id', 'text', (c) => c.notNull())
        .addColumn('algorithm', 'text', (c) => c.notNull())
        .addColumn('frontier', t.binary, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('audit_entry_action').on('audit_entry').columns(['action', 'seq']).execute();
      await db.schema.createIndex('audit_entry_tenant').on('audit_entry').columns(['tenant_id', 'seq']).execute();
    },
  },
  {
    name: '20261123-31-audit-signing-key',
    async up(db, t) {
      await db.schema.createTable('audit_signing_key')
        .addColumn('key_id', 'text', (c) => c.primaryKey())
        .addColumn('ref', 'text', (c) => c.notNull())
        .addColumn('algorithm', 'text', (c) => c.notNull())
        .addColumn('created_at', t.int64, (c) => c.notNull())
        .addColumn('retired_at', t.int64)
        .execute();
    },
  },
];
