import type { DomainMigration } from '../db/index.ts';

export const updateMigrations: readonly DomainMigration[] = [
  {
    name: '20261123-50-updates-releases',
    async up(db, t) {
      await db.schema.createTable('release')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenant.id'))
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('version_scheme', 'text', (c) => c.notNull())
        .addColumn('file_name', 'text', (c) => c.notNull())
        .addColumn('artifact_sha256', 'text', (c) => c.notNull())
        .addColumn('artifact_sha512', 'text', (c) => c.notNull())
        .addColumn('artifact_length', t.int64, (c) => c.notNull())
        .addColumn('hardware_revisions', 'text', (c) => c.notNull())
        .addColumn('notes', 'text', (c) => c.notNull())
        .addColumn('sbom_sha256', 'text')
        .addColumn('sbom_file_name', 'text')
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('downgrade_device_ids', 'text', (c) => c.notNull())
        .addColumn('created_at', t.int64, (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('approved_at', t.int64)
        .addColumn('approved_by', 'text')
        .addColumn('published_at', t.int64)
        .addColumn('published_by', 'text')
        .addColumn('withdrawn_at', t.int64)
        .addColumn('withdrawn_by', 'text')
        .execute();
      await db.schema.createTable('release_model')
        .addColumn('release_id', 'text', (c) => c.notNull().references('release.id'))
        .addColumn('model', 'text', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('release_model_pk', ['release_id', 'model'])
        .addUniqueConstraint('release_model_version', ['model', 'version'])
        .execute();
    },
  },
  {
    name: '20261123-51-updates-tuf',
    async up(db, t) {
      await db.schema.createTable('tuf_metadata')
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('version', t.int64, (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('expires_at', t.int64, (c) => c.notNull())
        .addColumn('created_at', t.int64, (c) => c.notNull())
        .addPrimaryKeyConstraint('tuf_metadata_pk', ['role', 'version'])
        .execute();
      await db.schema.createTable('tuf_key')
        .addColumn('key_id', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('key_ref', 'text', (c) => c.notNull())
        .addColumn('key_json', 'text', (c) => c.notNull())
        .addColumn('created_at', t.int64, (c) => c.notNull())
        .addColumn('retired_at', t.int64)
        .addPrimaryKeyConstraint('tuf_key_pk', ['key_id', 'role'])
        .execute();
      await db.schema.createTable('tuf_target_file')
        .addColumn('path', 'text', (c) => c.notNull())
        .addColumn('sha256', 'text', (c) => c.notNull())
        .addColumn('length', t.int64, (c) => c.notNull())
        .addColumn('created_at', t.int64, (c) => c.notNull())
        .addPrimaryKeyConstraint('tuf_target_file_pk', ['path', 'sha256'])
        .execute();
    },
  },
  {
    name: '20261123-52-updates-campaigns',
    async up(db, t) {
      await db.schema.createTable('campaign')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('release_id', 'text', (c) => c.notNull().references('release.id'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('emergency', 'integer', (c) => c.notNull())
        .addColumn('phases', 'text', (c) => c.notNull())
        .addColumn('current_phase', 'integer', (c) => c.notNull())
        .addColumn('success_threshold', 'real', (c) => c.notNull())
        .addColumn('failure_threshold', 'real', (c) => c.notNull())
        .addColumn('maintenance_window', 'text')
        .addColumn('selection', 'text', (c) => c.notNull())
        .addColumn('paused_reason', 'text')
        .addColumn('created_at', t.int64, (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('updated_at', t.int64, (c) => c.notNull())
        .execute();
      await db.schema.createTable('campaign_device')
        .addColumn('campaign_id', 'text', (c) => c.notNull().references('campaign.id'))
        .addColumn('device_id', 'text', (c) => c.notNull())
        .addColumn('site_id', 'text')
        .addColumn('phase', 'integer', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('detail', 'text')
        .addColumn('updated_at', t.int64, (c) => c.notNull())
        .addPrimaryKeyConstraint('campaign_device_pk', ['campaign_id', 'device_id'])
        .execute();
      await db.schema.createIndex('campaign_device_device').on('campaign_device').column('device_id').execute();
    },
  },
  {
    name: '20261123-53-updates-campaign-phase-index',
    async up(db) {
      // Phase evaluation counts statuses of the open phases after every report.
      await db.schema.createIndex('campaign_device_phase_status').on('campaign_device').columns(['campaign_id', 'phase', 'status']).execute();
    },
  },
  {
    name: '20261123-91-updates-campaign-created-index',
    async up(db) {
      // The dashboard lists campaigns newest first, one page at a time.
      await db.schema.createIndex('campaign_created').on('campaign').columns(['created_at', 'id']).execute();
    },
  },
  {
    name: '20261123-54-updates-device-tags',
    async up(db, t) {
      await db.schema.createTable('device_tag')
        .addColumn('device_id', 'text', (c) => c.notNull().references('device.id'))
        .addColumn('tag', 'text', (c) => c.notNull())
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('created_at', t.int64, (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('device_tag_pk', ['device_id', 'tag'])
        .execute();
      // Campaign selection looks devices up by tag.
      await db.schema.createIndex('device_tag_tag').on('device_tag').columns(['tag', 'device_id']).execute();
    },
  },
  {
    name: '20261123-55-updates-campaign-approval',
    async up(db) {
      await db.schema.alterTable('campaign').addColumn('requires_approval', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    },
  },
];
