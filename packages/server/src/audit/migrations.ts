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
];
