import type { DomainMigration } from '../db/index.ts';

export const eventMigrations: readonly DomainMigration[] = [
  {
    name: '20261123-03-events-init',
    async up(db, t) {
      await db.schema.createTable('cluster_event')
        .addColumn('id', t.serial, (c) => (t.dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey()))
        .addColumn('at', t.int64, (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('origin', 'text', (c) => c.notNull())
        .execute();
    },
  },
];
