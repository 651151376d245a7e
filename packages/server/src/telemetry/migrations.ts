import type { DomainMigration } from '../db/index.ts';

export const telemetryMigrations: readonly DomainMigration[] = [
  {
    name: '20261123-40-telemetry-messages',
    async up(db, t) {
      const float = t.dialect === 'sqlite' ? 'real' : 'double precision';
      await db.schema.createTable('telemetry_message')
        .addColumn('seq', t.serial, (c) => (t.dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey()))
        .addColumn('device_id', 'text', (c) => c.notNull())
        .addColumn('message_id', 'text', (c) => c.notNull())
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('device_ts', t.int64, (c) => c.notNull())
        .addColumn('received_at', t.int64, (c) => c.notNull())
        .addColumn('transport', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        // A repeated message id (QoS 1 redelivery, replay from the device queue) is stored once.
        .addUniqueConstraint('telemetry_message_device_message', ['device_id', 'message_id'])
        .execute();
      await db.schema.createIndex('telemetry_message_device_ts').on('telemetry_message').columns(['device_id', 'device_ts']).execute();
      await db.schema.createTable('telemetry_sample')
        .addColumn('device_id', 'text', (c) => c.notNull())
        .addColumn('metric', 'text', (c) => c.notNull())
        .addColumn('ts', t.int64, (c) => c.notNull())
        .addColumn('value', float, (c) => c.notNull())
        .addColumn('message_id', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('telemetry_sample_series').on('telemetry_sample').columns(['device_id', 'metric', 'ts']).execute();
    },
  },
  {
    name: '20261123-41-telemetry-presence',
    async up(db, t) {
      await db.schema.createTable('device_presence')
        .addColumn('device_id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('online', 'integer', (c) => c.notNull())
        .addColumn('last_seen_at', t.int64, (c) => c.notNull())
        .addColumn('connected_at', t.int64)
        .addColumn('disconnected_at', t.int64)
        .addColumn('transport', 'text', (c) => c.notNull())
        .addColumn('node', 'text')
        .execute();
      await db.schema.createTable('device_connection')
        .addColumn('id', t.serial, (c) => (t.dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey()))
        .addColumn('device_id', 'text', (c) => c.notNull())
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('transport', 'text', (c) => c.notNull())
        .addColumn('cert_serial', 'text', (c) => c.notNull())
        .addColumn('remote_address', 'text')
        .addColumn('connected_at', t.int64, (c) => c.notNull())
        .addColumn('disconnected_at', t.int64)
        .addColumn('end_reason', 'text')
        .execute();
      await db.schema.createIndex('device_connection_device').on('device_connection').columns(['device_id', 'connected_at']).execute();
      await db.schema.createTable('device_model_profile')
        .addColumn('model', 'text', (c) => c.primaryKey())
        .addColumn('heartbeat_interval_ms', t.int64, (c) => c.notNull())
        .addColumn('updated_at', t.int64, (c) => c.notNull())
        .execute();
    },
  },
  {
    name: '20261123-42-telemetry-node-heartbeat',
    async up(db, t) {
      // Each platform node holding device connections heartbeats here; a node silent for too long
      // is presumed dead and its presence rows are closed by a cluster job (docs/gateway.md).
      await db.schema.createTable('presence_node')
        .addColumn('node', 'text', (c) => c.primaryKey())
        .addColumn('started_at', t.int64, (c) => c.notNull())
        .addColumn('heartbeat_at', t.int64, (c) => c.notNull())
        .addColumn('reaped_at', t.int64)
        .execute();
      // Which node held a connection, so that closing a dead node's connections spares the ones its
      // devices already re-opened on another node.
      await db.schema.alterTable('device_connection').addColumn('node', 'text').execute();
      await db.schema.createIndex('device_presence_node').on('device_presence').columns(['node', 'online']).execute();
    },
  },
];
