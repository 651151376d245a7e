import type { DomainMigration } from '../db/index.ts';

export const accessMigrations: readonly DomainMigration[] = [
  {
    name: '20261123-01-access-init',
    async up(db, t) {
      await db.schema.createTable('tenant')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('parent_id', 'text', (c) => c.references('tenant.id'))
        .addColumn('time_zone', 'text')
        .addColumn('created_at', t.int64, (c) => c.notNull())
        .execute();
      await db.schema.createTable('api_token')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenant.id'))
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('secret_sha256', t.binary, (c) => c.notNull())
        .addColumn('created_at', t.int64, (c) => c.notNull())
        .addColumn('expires_at', t.int64)
        .addColumn('revoked_at', t.int64)
        .addColumn('last_used_at', t.int64)
        .addColumn('created_by', 'text', (c) => c.notNull())
        .execute();
    },
  },
];
