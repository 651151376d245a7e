import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '@medtrust/core';
import { migrateToLatest } from '../db/index.ts';
import { createTestDatabase, type TestDatabase } from '../db/testing.ts';
import { allMigrations } from '../migrations.ts';
import { openKeyStore, type KeyStore } from '../pki/index.ts';
// Test helper of the PKCS#11 store: a fresh SoftHSM2 token in a temp dir.
import { createSoftHsmTestToken, type SoftHsmTestToken } from '../pki/keystore/pkcs11/softhsm-test-token.ts';
import { DbAuditLog } from './audit-log.ts';
import { verifyAuditLog } from './audit-verifier.ts';
import { keyIdOf } from './checkpoint-note.ts';
import { CheckpointKeys } from './checkpoint-keys.ts';
import { CheckpointService } from './checkpoint-service.ts';

// The checkpoint key in the real key stores: the encrypted file store and SoftHSM2 over PKCS#11.
// The key store is what this is about, not storage: SQLite only.
for (const kind of ['file', 'pkcs11'] as const) {
  describe(`audit checkpoint key in the ${kind} key store`, () => {
    let t: TestDatabase;
    let token: SoftHsmTestToken | undefined;
    let store: KeyStore;
    const clock = new ManualClock(1_800_000_000_000);

    before(async () => {
      t = await createTestDatabase('sqlite');
      await migrateToLatest(t.db, 'sqlite', allMigrations);
      if (kind === 'pkcs11') token = createSoftHsmTestToken('medtrust-audit');
      store = await openKeyStore({ masterKey: 'audit-test-master-key-01', keyStore: token ? token.config : { kind: 'file' } }, t.dataDir);
      await new DbAuditLog({ db: t.db, dialect: 'sqlite', clock }).appendMany(Array.from({ length: 9 }, (_, i) => ({ actor: 'system', action: 'test', details: { i } })));
    });
    after(async () => {
      await store.close();
      token?.remove();
      await t.close();
    });

    it('creates the key once, signs with it, and a second process finds the same key', async () => {
      const keys = new CheckpointKeys({ db: t.db, keyStore: store, clock });
      const signer = await keys.signer();
      assert.equal(signer.algorithm, kind === 'pkcs11' ? 'ec-p256' : 'ed25519');
      const cp = await new CheckpointService({ db: t.db, signingKey: () => keys.signer(), clock }).create();
      assert.equal(cp?.keyId, keyIdOf(signer.publicKey));
      const again = new CheckpointKeys({ db: t.db, keyStore: store, clock });
      assert.equal(keyIdOf((await again.signer()).publicKey), cp?.keyId);
      assert.deepEqual(await verifyAuditLog({ db: t.db, trustedKeys: () => again.trusted() }), { ok: true, entries: 9, checkpoints: 1, latestCheckpoint: 9 });
    });

    it('trusts no key the key store does not hold under the recorded id', async () => {
      await t.db.updateTable('audit_signing_key').set({ key_id: 'f'.repeat(64) }).execute();
      const r = await verifyAuditLog({ db: t.db, trustedKeys: () => new CheckpointKeys({ db: t.db, keyStore: store }).trusted() });
      assert.equal(!r.ok && r.problem.kind, 'checkpoint-key-unknown');
    });
  });
}
