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
  {
    name: '20261123-32-access-users-sessions',
    async up(db, t) {
      await db.schema.createTable('app_user')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenant.id'))
        .addColumn('email', 'text', (c) => c.notNull().unique())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('failed_attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('locked_until', t.int64)
        .addColumn('created_at', t.int64, (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('disabled_at', t.int64)
        .execute();
      await db.schema.createIndex('app_user_tenant').on('app_user').columns(['tenant_id']).execute();
      await db.schema.createTable('session')
        .addColumn('id_sha256', t.binary, (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('app_user.id'))
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('created_at', t.int64, (c) => c.notNull())
        .addColumn('expires_at', t.int64, (c) => c.notNull())
        .addColumn('last_seen_at', t.int64, (c) => c.notNull())
        .addColumn('revoked_at', t.int64)
        .execute();
      await db.schema.createIndex('session_user').on('session').columns(['user_id']).execute();
      await db.schema.createIndex('api_token_tenant').on('api_token').columns(['tenant_id']).execute();
    },
  },
  {
    name: '20261123-81-access-oidc',
    async up(db, t) {
      await db.schema.createTable('oidc_provider')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenant.id'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('issuer', 'text', (c) => c.notNull())
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('client_secret_enc', t.binary, (c) => c.notNull())
        .addColumn('allowed_domains', 'text', (c) => c.notNull())
        .addColumn('role_claim', 'text')
        .addColumn('role_map', 'text', (c) => c.notNull())
        .addColumn('default_role', 'text')
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('created_at', t.int64, (c) => c.notNull())
        .addColumn('updated_at', t.int64, (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('oidc_provider_tenant').on('oidc_provider').columns(['tenant_id']).execute();
      await db.schema.createTable('oidc_identity')
        .addColumn('provider_id', 'text', (c) => c.notNull().references('oidc_provider.id'))
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull().references('app_user.id'))
        .addColumn('created_at', t.int64, (c) => c.notNull())
        .addColumn('last_login_at', t.int64, (c) => c.notNull())
        .addPrimaryKeyConstraint('oidc_identity_pk', ['provider_id', 'subject'])
        .execute();
      await db.schema.createTable('oidc_login')
        .addColumn('state_sha256', t.binary, (c) => c.primaryKey())
        .addColumn('provider_id', 'text', (c) => c.notNull())
        .addColumn('nonce', 'text', (c) => c.notNull())
        .addColumn('code_verifier', 'text', (c) => c.notNull())
        .addColumn('created_at', t.int64, (c) => c.notNull())
        .addColumn('expires_at', t.int64, (c) => c.notNull())
        .execute();
    },
  },
];
