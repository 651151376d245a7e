import type { DomainMigration } from '../db/index.ts';

export const jobMigrations: readonly DomainMigration[] = [
  {
    name: '20261123-04-jobs-init',
    async up(db, t) {
      await db.schema.createTable('job_lease')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('holder', 'text', (c) => c.notNull())
        .addColumn('lease_until', t.int64, (c) => c.notNull())
        .addColumn('last_run_at', t.int64)
        .execute();
    },
  },
];
