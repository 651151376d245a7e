import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { verify } from 'node:crypto';
import { FileKeyStore } from './file-key-store.ts';
import { FileSecretStore } from './file-secret-store.ts';
import { MasterKeyring } from './master-keyring.ts';
import type { KeyAlgorithm } from '../key-store.ts';

const N = 1 << 10; // cheap scrypt for tests; production uses 2^15
const dirs: string[] = [];
const newDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'medtrust-ks-'));
  dirs.push(d);
  return d;
};
const store = (dataDir: string, masterKey: string | undefined): FileKeyStore => new FileKeyStore({ keyring: new MasterKeyring({ dataDir, masterKey, scryptN: N }) });

describe('FileKeyStore', () => {
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('generates, persists and reloads keys of every algorithm; signatures verify', async () => {
    const dir = newDir();
    const ks = store(dir, 'correct horse battery staple');
    const algs: KeyAlgorithm[] = ['ec-p256', 'ec-p384', 'ed25519', 'rsa-2048'];
    for (const alg of algs) await ks.generate(`k-${alg}`, alg);
    const reopened = store(dir, 'correct horse battery staple');
    for (const alg of algs) {
      const h = await reopened.load(`k-${alg}`);
      assert.equal(h.algorithm, alg);
      const data = Buffer.from('tbs bytes');
      const digest = alg === 'ec-p384' ? 'sha384' : alg === 'ed25519' ? null : 'sha256';
      assert.ok(verify(digest, data, h.publicKey, h.sign(data)));
    }
  });

  it('writes key files 0600 in a 0700 directory and no clear key material', async () => {
    const dir = newDir();
    const ks = store(dir, 'a master key of 16+');
    const h = await ks.generate('ca-root', 'ec-p256');
    const keys = join(dir, 'keys');
    assert.equal(statSync(keys).mode & 0o777, 0o700);
    for (const f of readdirSync(keys)) assert.equal(statSync(join(keys, f)).mode & 0o777, 0o600, f);
    const raw = readFileSync(join(keys, 'ca-root.key'));
    const spkiPoint = h.publicKey.export({ format: 'der', type: 'spki' }).subarray(-64);
    assert.equal(raw.includes(spkiPoint), false); // PKCS#8 embeds the public point; sealed, it must not show
    assert.equal(raw.includes(Buffer.from('PRIVATE KEY')), false);
  });

  it('generates a 0600 master key file when no master key is configured', async () => {
    const dir = newDir();
    await store(dir, undefined).generate('k', 'ed25519');
    assert.equal(statSync(join(dir, 'master.key')).mode & 0o777, 0o600);
    assert.equal((await store(dir, undefined).load('k')).algorithm, 'ed25519');
  });

  describe('when the master key is wrong', () => {
    it('refuses with CA_KEY_LOCKED', async () => {
      const dir = newDir();
      await store(dir, 'the right master key').generate('k', 'ec-p256');
      await assert.rejects(store(dir, 'the wrong master key').load('k'), { code: 'CA_KEY_LOCKED' });
    });
  });

  describe('when a key file is altered', () => {
    it('refuses every flipped byte with KEYSTORE_FAILURE and never returns a key', async () => {
      const dir = newDir();
      await store(dir, 'the right master key').generate('k', 'ec-p256');
      const path = join(dir, 'keys', 'k.key');
      const good = readFileSync(path);
      for (let i = 0; i < good.length; i += 7) {
        const bad = Buffer.from(good);
        bad[i] = (bad[i] as number) ^ 0x01;
        writeFileSync(path, bad);
        await assert.rejects(store(dir, 'the right master key').load('k'), { code: 'KEYSTORE_FAILURE' }, `byte ${i}`);
      }
      writeFileSync(path, good.subarray(0, 20));
      await assert.rejects(store(dir, 'the right master key').load('k'), { code: 'KEYSTORE_FAILURE' });
    });

    it('refuses a key file moved to another label', async () => {
      const dir = newDir();
      const ks = store(dir, 'the right master key');
      await ks.generate('a', 'ec-p256');
      await ks.generate('b', 'ec-p256');
      writeFileSync(join(dir, 'keys', 'b.key'), readFileSync(join(dir, 'keys', 'a.key')));
      await assert.rejects(store(dir, 'the right master key').load('b'), { code: 'KEYSTORE_FAILURE' });
    });
  });

  it('answers KEY_NOT_FOUND for a missing or malformed ref, and refuses a duplicate label', async () => {
    const dir = newDir();
    const ks = store(dir, 'the right master key');
    await ks.generate('k', 'ec-p256');
    await assert.rejects(ks.load('nope'), { code: 'KEY_NOT_FOUND' });
    await assert.rejects(ks.load('../etc/passwd'), { code: 'KEY_NOT_FOUND' });
    await assert.rejects(ks.generate('k', 'ec-p256'), { code: 'KEYSTORE_FAILURE' });
  });
});

describe('FileSecretStore', () => {
  it('creates a 32-byte secret once, returns the same one after reopening, 0600', async () => {
    const dir = newDir();
    const ring = (): MasterKeyring => new MasterKeyring({ dataDir: dir, masterKey: 'the right master key', scryptN: N });
    const s1 = new FileSecretStore({ keyring: ring(), dataDir: dir });
    const [a, b] = await Promise.all([s1.get('phi-field'), s1.get('phi-field')]);
    assert.equal(a.length, 32);
    assert.deepEqual(a, b);
    assert.deepEqual(await new FileSecretStore({ keyring: ring(), dataDir: dir }).get('phi-field'), a);
    assert.notDeepEqual(await s1.get('other'), a);
    assert.equal(statSync(join(dir, 'secrets', 'phi-field.secret')).mode & 0o777, 0o600);
    await assert.rejects(new FileSecretStore({ keyring: new MasterKeyring({ dataDir: dir, masterKey: 'a wrong master key', scryptN: N }), dataDir: dir }).get('phi-field'), { code: 'CA_KEY_LOCKED' });
  });
});
