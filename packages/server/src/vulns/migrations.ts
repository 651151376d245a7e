import type { DomainMigration } from '../db/index.ts';

export const vulnMigrations: readonly DomainMigration[] = [
  {
    name: '20261123-20-vulns-init',
    async up(db, t) {
      await db.schema.createTable('vuln_sbom')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('model', 'text', (c) => c.notNull())
        .addColumn('firmware_version', 'text', (c) => c.notNull())
        .addColumn('format', 'text', (c) => c.notNull())
        .addColumn('spec_version', 'text', (c) => c.notNull())
        .addColumn('document_name', 'text')
        .addColumn('component_count', 'integer', (c) => c.notNull())
        .addColumn('imported_at', t.int64, (c) => c.notNull())
        .addColumn('imported_by', 'text', (c) => c.notNull())
        .addUniqueConstraint('vuln_sbom_firmware', ['model', 'firmware_version'])
        .execute();
      await db.schema.createTable('vuln_component')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('sbom_id', 'text', (c) => c.notNull().references('vuln_sbom.id').onDelete('cascade'))
        .addColumn('model', 'text', (c) => c.notNull())
        .addColumn('firmware_version', 'text', (c) => c.notNull())
        .addColumn('ref', 'text', (c) => c.notNull())
        .addColumn('component_type', 'text')
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('version', 'text')
        .addColumn('purl', 'text')
        .addColumn('cpe', 'text')
        .addColumn('supplier', 'text')
        .addColumn('support_level', 'text')
        .addColumn('end_of_support', 'text')
        .addColumn('end_of_support_at', t.int64)
        .execute();
      await db.schema.createIndex('vuln_component_sbom').on('vuln_component').column('sbom_id').execute();
      await db.schema.createTable('vuln_component_key')
        .addColumn('component_id', 'text', (c) => c.notNull().references('vuln_component.id').onDelete('cascade'))
        .addColumn('package_key', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('vuln_component_key_pk', ['component_id', 'package_key'])
        .execute();
      await db.schema.createIndex('vuln_component_key_key').on('vuln_component_key').column('package_key').execute();
      await db.schema.createTable('vuln_advisory')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('vuln_id', 'text', (c) => c.notNull())
        .addColumn('aliases', 'text', (c) => c.notNull())
        .addColumn('summary', 'text', (c) => c.notNull())
        .addColumn('modified_at', t.int64, (c) => c.notNull())
        .addColumn('published_at', t.int64)
        .addColumn('cvss31_vector', 'text')
        .addColumn('cvss40_vector', 'text')
        .addColumn('record', 'text', (c) => c.notNull())
        .addColumn('imported_at', t.int64, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('vuln_advisory_vuln').on('vuln_advisory').column('vuln_id').execute();
      await db.schema.createTable('vuln_advisory_key')
        .addColumn('advisory_id', 'text', (c) => c.notNull().references('vuln_advisory.id').onDelete('cascade'))
        .addColumn('package_key', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('vuln_advisory_key_pk', ['advisory_id', 'package_key'])
        .execute();
      await db.schema.createIndex('vuln_advisory_key_key').on('vuln_advisory_key').column('package_key').execute();
      await db.schema.createTable('vuln_kev')
        .addColumn('cve_id', 'text', (c) => c.primaryKey())
        .addColumn('vendor_project', 'text', (c) => c.notNull())
        .addColumn('product', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('date_added', 'text', (c) => c.notNull())
        .addColumn('due_date', 'text')
        .addColumn('known_ransomware', 'text')
        .execute();
      await db.schema.createTable('vuln_epss')
        .addColumn('cve_id', 'text', (c) => c.primaryKey())
        .addColumn('epss', 'double precision', (c) => c.notNull())
        .addColumn('percentile', 'double precision', (c) => c.notNull())
        .addColumn('score_date', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createTable('vuln_match')
        .addColumn('component_id', 'text', (c) => c.notNull().references('vuln_component.id').onDelete('cascade'))
        .addColumn('advisory_id', 'text', (c) => c.notNull().references('vuln_advisory.id').onDelete('cascade'))
        .addColumn('vuln_id', 'text', (c) => c.notNull())
        .addColumn('model', 'text', (c) => c.notNull())
        .addColumn('firmware_version', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('fixed_version', 'text')
        .addColumn('matched_at', t.int64, (c) => c.notNull())
        .addPrimaryKeyConstraint('vuln_match_pk', ['component_id', 'advisory_id'])
        .execute();
      await db.schema.createIndex('vuln_match_firmware').on('vuln_match').columns(['model', 'firmware_version']).execute();
      await db.schema.createIndex('vuln_match_advisory').on('vuln_match').column('advisory_id').execute();
      await db.schema.createTable('vuln_model_profile')
        .addColumn('model', 'text', (c) => c.primaryKey())
        .addColumn('criticality', 'text', (c) => c.notNull())
        .addColumn('exposure', 'text', (c) => c.notNull())
        .addColumn('end_of_support_at', t.int64)
        .addColumn('updated_at', t.int64, (c) => c.notNull())
        .execute();
    },
  },
  {
    name: '20261123-21-vulns-vex',
    async up(db, t) {
      await db.schema.createTable('vuln_vex')
        .addColumn('model', 'text', (c) => c.notNull())
        .addColumn('firmware_version', 'text', (c) => c.notNull())
        .addColumn('vuln_id', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('justification', 'text')
        .addColumn('detail', 'text')
        .addColumn('author', 'text', (c) => c.notNull())
        .addColumn('updated_at', t.int64, (c) => c.notNull())
        .addPrimaryKeyConstraint('vuln_vex_pk', ['model', 'firmware_version', 'vuln_id'])
        .execute();
    },
  },
  {
    name: '20261123-22-vulns-advisory-notice',
    async up(db, t) {
      // What each affected hospital was told about an advisory, and who there acknowledged it.
      await db.schema.createTable('vuln_advisory_notice')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenant.id'))
        .addColumn('vuln_id', 'text', (c) => c.notNull())
        .addColumn('tracking_id', 'text', (c) => c.notNull())
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('firmwares', 'text', (c) => c.notNull())
        .addColumn('affected_devices', 'integer', (c) => c.notNull())
        .addColumn('csaf', 'text', (c) => c.notNull())
        .addColumn('created_at', t.int64, (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('acknowledged_at', t.int64)
        .addColumn('acknowledged_by', 'text')
        .addUniqueConstraint('vuln_advisory_notice_tenant_tracking', ['tenant_id', 'tracking_id'])
        .execute();
      await db.schema.createIndex('vuln_advisory_notice_tenant_created').on('vuln_advisory_notice').columns(['tenant_id', 'created_at']).execute();
    },
  },
];
