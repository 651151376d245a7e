// Test support: the PKI services over a real database (either dialect) and a real file key store.
import { ManualClock, type Clock } from '@medtrust/core';
import { TenantService } from '../../access/index.ts';
import { DbAuditLog } from '../../audit/index.ts';
import { migrateToLatest } from '../../db/index.ts';
import { createTestDatabase, type TestDatabase } from '../../db/testing.ts';
import type { SqlDialectName } from '../../db/index.ts';
import { DeviceRegistry } from '../../devices/index.ts';
import { DbEventBus } from '../../events/index.ts';
import { allMigrations } from '../../migrations.ts';
import { CaHierarchy } from '../ca/ca-hierarchy.ts';
import { IssuanceService } from '../issuance/issuance-service.ts';
import { FileKeyStore } from '../keystore/file/file-key-store.ts';
import { MasterKeyring } from '../keystore/file/master-keyring.ts';
import { DbCertificateStore } from '../store/certificate-store.ts';

export const TEST_PUBLIC_URL = 'http://pki.test:8080';

export interface PkiTestStack {
  readonly t: TestDatabase;
  readonly clock: Clock;
  readonly audit: DbAuditLog;
  readonly events: DbEventBus;
  readonly keyStore: FileKeyStore;
  readonly cas: CaHierarchy;
  readonly devices: DeviceRegistry;
  readonly issuer: IssuanceService;
  readonly certificates: DbCertificateStore;
  readonly operatorTenantId: string;
  close(): Promise<void>;
}

/** Migrated database, operator tenant, initialised CA hierarchy; scrypt cost lowered for speed. */
export async function createPkiTestStack(dialect: SqlDialectName, opts: { clock?: Clock; ldevidValidityDays?: number } = {}): Promise<PkiTestStack> {
  const t = await createTestDatabase(dialect);
  await migrateToLatest(t.db, dialect, allMigrations);
  const clock = opts.clock ?? new ManualClock(Date.now());
  const audit = new DbAuditLog({ db: t.db, dialect, clock });
  const events = new DbEventBus({ db: t.db, clock });
  const keyStore = new FileKeyStore({ keyring: new MasterKeyring({ dataDir: t.dataDir, masterKey: 'test master key 0123456789', scryptN: 1 << 10 }) });
  const cas = new CaHierarchy({ db: t.db, keyStore, audit, publicUrl: TEST_PUBLIC_URL, clock });
  await cas.init();
  const devices = new DeviceRegistry({ db: t.db, audit, events, clock });
  const issuer = new IssuanceService({ db: t.db, dialect, cas, devices, audit, events, publicUrl: TEST_PUBLIC_URL, ldevidValidityDays: opts.ldevidValidityDays ?? 365, clock });
  const operatorTenantId = await new TenantService({ db: t.db, clock }).ensureOperator();
  return {
    t, clock, audit, events, keyStore, cas, devices, issuer, certificates: new DbCertificateStore({ db: t.db }), operatorTenantId,
    close: async () => {
      events.stop();
      await keyStore.close();
      await t.close();
    },
  };
}
