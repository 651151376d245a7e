import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { X509Certificate, verify } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { toPem } from '@medtrust/core';
import { DbAuditLog } from '../../../audit/index.ts';
import { migrateToLatest } from '../../../db/index.ts';
import { createTestDatabase } from '../../../db/testing.ts';
import type { TestDatabase } from '../../../db/testing.ts';
import { allMigrations } from '../../../migrations.ts';
import { CaHierarchy, ISSUING_CAS } from '../../ca/ca-hierarchy.ts';
import { PkiError } from '../../errors.ts';
import type { KeyStore } from '../key-store.ts';
import { openKeyStore } from '../open-key-store.ts';
import { createSoftHsmTestToken } from './softhsm-test-token.ts';
import type { SoftHsmTestToken } from './softhsm-test-token.ts';

function openssl(args: readonly string[]): { ok: boolean; out: string } {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}

// The key store is what this test is about, not storage: one dialect is enough here.
describe('CA hierarchy with its keys on a SoftHSM2 token', () => {
  let token: SoftHsmTestToken;
  let t: TestDatabase;
  let keyStore: KeyStore;
  let dir: string;

  const hierarchy = (): CaHierarchy => new CaHierarchy({ db: t.db, keyStore, audit: new DbAuditLog({ db: t.db, dialect: 'sqlite' }), publicUrl: 'http://127.0.0.1:9' });
  const open = (): Promise<KeyStore> => openKeyStore({ masterKey: undefined, keyStore: token.config }, t.dataDir);

  before(async () => {
    token = createSoftHsmTestToken('medtrust-ca');
    t = await createTestDatabase('sqlite');
    await migrateToLatest(t.db, 'sqlite', allMigrations);
    dir = mkdtempSync(join(tmpdir(), 'hsm-chain-'));
    keyStore = await open();
  });

  after(async () => {
    await keyStore.close();
    await t.close();
    token.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it('initialises through openKeyStore and issues chains that openssl verify accepts', async () => {
    assert.equal(keyStore.kind, 'pkcs11');
    const created = await hierarchy().init();
    assert.ok(created.every((c) => c.created));
    const cas = hierarchy();
    const root = await cas.get('root');
    assert.equal(root.key.ref.startsWith('pkcs11:'), true);
    writeFileSync(join(dir, 'root.pem'), root.certificatePem);
    assert.match(openssl(['x509', '-in', join(dir, 'root.pem'), '-noout', '-text']).out, /Signature Algorithm: ecdsa-with-SHA384/);
    for (const name of ISSUING_CAS) {
      const ca = await cas.get(name);
      const signer = await cas.ocspSigner(name);
      writeFileSync(join(dir, `${name}.pem`), ca.certificatePem);
      writeFileSync(join(dir, `${name}-ocsp.pem`), toPem('CERTIFICATE', signer.certificateDer));
      // Root (P-384 on the token) signed the CA, whose P-256 token key signed the OCSP signer.
      const r = openssl(['verify', '-x509_strict', '-CAfile', join(dir, 'root.pem'), '-untrusted', join(dir, `${name}.pem`), join(dir, `${name}.pem`), join(dir, `${name}-ocsp.pem`)]);
      assert.ok(r.ok, r.out);
      assert.match(r.out, new RegExp(`${name}-ocsp.pem: OK`));
    }
    const audit = await t.db.selectFrom('audit_entry').select('details').where('action', '=', 'pki.ca.created').execute();
    assert.equal(audit.length, 4);
    assert.ok(audit.every((a) => (JSON.parse(a.details) as { keyStore: string }).keyStore === 'pkcs11'));
  });

  it('finds every key again after the store is closed and reopened', async () => {
    await keyStore.close();
    keyStore = await open();
    const again = await hierarchy().init();
    assert.ok(again.every((c) => !c.created));
    const cas = hierarchy();
    for (const name of ISSUING_CAS) {
      const ca = await cas.get(name);
      const cert = new X509Certificate(ca.certificateDer);
      assert.ok(cert.publicKey.equals(ca.key.publicKey), `${name}: the token key is the certified key`);
      const signer = await cas.ocspSigner(name);
      const data = Buffer.from(`after restart ${name}`);
      assert.ok(verify('sha256', data, new X509Certificate(signer.certificateDer).publicKey, signer.key.sign(data)));
    }
    // The chain check can fail: the OCSP signer of one CA does not chain to another CA.
    const wrong = openssl(['verify', '-CAfile', join(dir, 'root.pem'), '-untrusted', join(dir, 'manufacturing.pem'), join(dir, 'operational-ocsp.pem')]);
    assert.equal(wrong.ok, false);
  });

  it('refuses to start with a wrong PIN (CA_KEY_LOCKED)', async () => {
    await keyStore.close();
    try {
      await assert.rejects(openKeyStore({ masterKey: undefined, keyStore: { ...token.config, pin: '0000' } }, t.dataDir), (e) => e instanceof PkiError && e.code === 'CA_KEY_LOCKED');
    } finally {
      keyStore = await open();
    }
  });
});
