import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, verify } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pkcs11js from 'pkcs11js';
import type { KeyAlgorithm, KeyHandle } from '../key-store.ts';
import { PkiError } from '../../errors.ts';
import { Pkcs11KeyStore } from './pkcs11-key-store.ts';
import { parseKeyUri } from './pkcs11-uri.ts';
import { createSoftHsmTestToken } from './softhsm-test-token.ts';
import type { SoftHsmTestToken } from './softhsm-test-token.ts';

const HASH: Record<KeyAlgorithm, string | null> = { 'ec-p256': 'sha256', 'ec-p384': 'sha384', ed25519: null, 'rsa-2048': 'sha256', 'rsa-3072': 'sha256' };

async function codeOf(fn: () => unknown): Promise<string> {
  try {
    await fn();
  } catch (e) {
    assert.ok(e instanceof PkiError, `expected a PkiError, got ${String(e)}`);
    return e.code;
  }
  assert.fail('expected a PkiError');
}

function spki(h: KeyHandle): string {
  return h.publicKey.export({ type: 'spki', format: 'der' }).toString('hex');
}

/** Runs `fn` on a raw logged-in pkcs11js session: the store must be closed (one C_Initialize per process). */
function withRawSession<T>(token: SoftHsmTestToken, fn: (mod: pkcs11js.PKCS11, session: Buffer) => T): T {
  const mod = new pkcs11js.PKCS11();
  mod.load(token.config.library);
  mod.C_Initialize();
  try {
    const slot = mod.C_GetSlotList(true).find((s) => mod.C_GetTokenInfo(s).label.trimEnd() === token.config.tokenLabel);
    assert.ok(slot);
    const session = mod.C_OpenSession(slot, pkcs11js.CKF_RW_SESSION | pkcs11js.CKF_SERIAL_SESSION);
    mod.C_Login(session, pkcs11js.CKU_USER, token.config.pin);
    return fn(mod, session);
  } finally {
    mod.C_Finalize();
    mod.close();
  }
}

function findByLabel(mod: pkcs11js.PKCS11, session: Buffer, cls: number, label: string): Buffer {
  mod.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_CLASS, value: cls }, { type: pkcs11js.CKA_LABEL, value: label }]);
  const found = mod.C_FindObjects(session, 2);
  mod.C_FindObjectsFinal(session);
  assert.equal(found.length, 1);
  return found[0]!;
}

describe('Pkcs11KeyStore on SoftHSM2', () => {
  let token: SoftHsmTestToken;
  let store: Pkcs11KeyStore;
  const handles = new Map<KeyAlgorithm, KeyHandle>();
  const message = Buffer.from('tbsCertificate bytes stand-in');

  before(() => {
    token = createSoftHsmTestToken();
    store = Pkcs11KeyStore.open(token.config);
  });

  after(async () => {
    await store.close();
    token.remove();
  });

  describe('when generating and signing', () => {
    for (const algorithm of ['ec-p256', 'ec-p384', 'rsa-2048', 'ed25519'] as const) {
      it(`signs with ${algorithm} so that node:crypto verifies the X.509 signature`, async () => {
        const h = await store.generate(`ca-${algorithm}`, algorithm);
        handles.set(algorithm, h);
        assert.equal(h.algorithm, algorithm);
        assert.deepEqual(parseKeyUri(h.ref)?.label, `ca-${algorithm}`);
        const sig = h.sign(message);
        assert.ok(verify(HASH[algorithm], message, h.publicKey, sig));
        assert.ok(!verify(HASH[algorithm], Buffer.from('tampered'), h.publicKey, sig));
        if (algorithm.startsWith('ec-')) assert.equal(sig[0], 0x30, 'ECDSA-Sig-Value is a DER SEQUENCE');
      });
    }

    it('gives a P-384 signature that the openssl CLI verifies', () => {
      const h = handles.get('ec-p384');
      assert.ok(h);
      const dir = mkdtempSync(join(tmpdir(), 'p11-openssl-'));
      try {
        writeFileSync(join(dir, 'pub.pem'), h.publicKey.export({ type: 'spki', format: 'pem' }));
        writeFileSync(join(dir, 'msg'), message);
        writeFileSync(join(dir, 'sig'), h.sign(message));
        const out = execFileSync('openssl', ['dgst', '-sha384', '-verify', join(dir, 'pub.pem'), '-signature', join(dir, 'sig'), join(dir, 'msg')], { encoding: 'utf8' });
        assert.match(out, /Verified OK/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('keeps many concurrent signs correct while a key is being generated', async () => {
      const p256 = handles.get('ec-p256');
      const rsa = handles.get('rsa-2048');
      assert.ok(p256 && rsa);
      const generating = store.generate('concurrent-gen', 'ec-p256');
      const results = await Promise.all(Array.from({ length: 40 }, async (_, i) => {
        const h = i % 2 === 0 ? p256 : rsa;
        const data = Buffer.from(`message ${i}`);
        await Promise.resolve();
        return verify(HASH[h.algorithm], data, h.publicKey, h.sign(data));
      }));
      assert.ok(results.every(Boolean));
      assert.equal((await generating).algorithm, 'ec-p256');
    });

    it('refuses a label already on the token, also when two generations race', async () => {
      assert.equal(await codeOf(() => store.generate('ca-ec-p256', 'ec-p256')), 'KEY_LABEL_TAKEN');
      const settled = await Promise.allSettled([store.generate('race', 'ec-p256'), store.generate('race', 'ec-p256')]);
      assert.equal(settled.filter((s) => s.status === 'fulfilled').length, 1);
      const rejected = settled.find((s) => s.status === 'rejected');
      assert.ok(rejected?.status === 'rejected' && rejected.reason instanceof PkiError && rejected.reason.code === 'KEY_LABEL_TAKEN');
    });

    it('refuses a label that is not a plain name', async () => {
      assert.equal(await codeOf(() => store.generate('', 'ec-p256')), 'KEYSTORE_FAILURE');
      assert.equal(await codeOf(() => store.generate('a;id=%01', 'ec-p256')), 'KEYSTORE_FAILURE');
    });
  });

  describe('when loading', () => {
    it('finds the same keys after the store is closed and reopened', async () => {
      await store.close();
      store = Pkcs11KeyStore.open(token.config);
      for (const [algorithm, h] of handles) {
        const again = await store.load(h.ref);
        assert.equal(again.algorithm, algorithm);
        assert.equal(spki(again), spki(h));
        assert.ok(verify(HASH[algorithm], message, h.publicKey, again.sign(message)));
      }
    });

    it('also finds a key by its bare label or a label-only URI', async () => {
      const h = handles.get('ec-p384')!;
      for (const ref of ['ca-ec-p384', 'pkcs11:object=ca-ec-p384', 'pkcs11:object=ca-ec-p384;type=private']) {
        const again = await store.load(ref);
        assert.equal(spki(again), spki(h), ref);
        assert.ok(verify('sha384', message, h.publicKey, again.sign(message)));
      }
    });

    it('answers KEY_NOT_FOUND for refs that name nothing on this token', async () => {
      const h = handles.get('ec-p256');
      assert.ok(h);
      const uri = parseKeyUri(h.ref);
      assert.ok(uri?.id);
      for (const ref of [
        'pkcs11:object=never-made;id=%01;type=private',
        h.ref.replace(/id=%[0-9a-f]{2}/, 'id=%ff'),
        `pkcs11:token=other;object=${uri.label};id=${[...uri.id].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')}`,
        `${h.ref}?module-path=/tmp/evil.so`,
        'file:ca-root',
        'never-made',
        'pkcs11:object=never-made',
        'pkcs11:object=ca-ec-p256;id=%zz',
        '',
      ]) {
        assert.equal(await codeOf(() => store.load(ref)), 'KEY_NOT_FOUND', ref);
      }
    });

    it('refuses keys imported with softhsm2-util that are of an unused type or ambiguous by label', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'p11-import-'));
      try {
        const pem = (curve: string): string => generateKeyPairSync('ec', { namedCurve: curve }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
        writeFileSync(join(dir, 'p521.pem'), pem('P-521'));
        writeFileSync(join(dir, 'dup1.pem'), pem('P-256'));
        writeFileSync(join(dir, 'dup2.pem'), pem('P-256'));
        await store.close();
        const label = token.config.tokenLabel!;
        token.util(['--import', join(dir, 'p521.pem'), '--token', label, '--label', 'p521', '--id', 'a1b2', '--pin', token.config.pin]);
        token.util(['--import', join(dir, 'dup1.pem'), '--token', label, '--label', 'dup', '--id', '01', '--pin', token.config.pin]);
        token.util(['--import', join(dir, 'dup2.pem'), '--token', label, '--label', 'dup', '--id', '02', '--pin', token.config.pin]);
        store = Pkcs11KeyStore.open(token.config);
        assert.equal(await codeOf(() => store.load('pkcs11:object=p521;id=%a1%b2;type=private')), 'KEY_ALGORITHM_UNSUPPORTED');
        assert.equal(await codeOf(() => store.load('dup')), 'KEYSTORE_FAILURE');
        assert.equal((await store.load('pkcs11:object=dup;id=%02')).algorithm, 'ec-p256');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('when someone tampers with the token', () => {
    it('keeps private keys sensitive and non-extractable', async () => {
      await store.close();
      try {
        withRawSession(token, (mod, session) => {
          for (const algorithm of handles.keys()) {
            const key = findByLabel(mod, session, pkcs11js.CKO_PRIVATE_KEY, `ca-${algorithm}`);
            // EC and Edwards keys hold the secret in CKA_VALUE, RSA keys in CKA_PRIVATE_EXPONENT.
            const secret = algorithm.startsWith('rsa-') ? pkcs11js.CKA_PRIVATE_EXPONENT : pkcs11js.CKA_VALUE;
            assert.throws(() => mod.C_GetAttributeValue(session, key, [{ type: secret }]), /CKR_ATTRIBUTE_SENSITIVE/);
            const [sensitive, extractable, onToken] = mod.C_GetAttributeValue(session, key, [
              { type: pkcs11js.CKA_SENSITIVE }, { type: pkcs11js.CKA_EXTRACTABLE }, { type: pkcs11js.CKA_TOKEN },
            ]);
            assert.deepEqual([sensitive?.value[0], extractable?.value[0], onToken?.value[0]], [1, 0, 1]);
            // PKCS#11 v2.40 §4.9: CKA_EXTRACTABLE cannot be switched back on.
            assert.throws(() => mod.C_SetAttributeValue(session, key, [{ type: pkcs11js.CKA_EXTRACTABLE, value: true }]), /CKR_/);
          }
        });
      } finally {
        store = Pkcs11KeyStore.open(token.config);
      }
    });

    it('refuses a private key paired with a public key that is not its own', async () => {
      const victim = await store.generate('victim', 'ec-p256');
      const other = await store.generate('other', 'ec-p256');
      const victimId = parseKeyUri(victim.ref)!.id;
      await store.close();
      try {
        withRawSession(token, (mod, session) => {
          mod.C_DestroyObject(session, findByLabel(mod, session, pkcs11js.CKO_PUBLIC_KEY, 'victim'));
          const swapped = findByLabel(mod, session, pkcs11js.CKO_PUBLIC_KEY, 'other');
          mod.C_SetAttributeValue(session, swapped, [{ type: pkcs11js.CKA_LABEL, value: 'victim' }, { type: pkcs11js.CKA_ID, value: victimId }]);
        });
      } finally {
        store = Pkcs11KeyStore.open(token.config);
      }
      assert.equal(await codeOf(() => store.load(victim.ref)), 'KEYSTORE_FAILURE');
      assert.equal(await codeOf(() => store.load(other.ref)), 'KEY_NOT_FOUND');
    });
  });

  describe('when the token cannot be used', () => {
    it('answers CA_KEY_LOCKED for a wrong PIN, an absent token or a slot holding another token', async () => {
      await store.close();
      try {
        assert.equal(await codeOf(() => Pkcs11KeyStore.open({ ...token.config, pin: '9999' })), 'CA_KEY_LOCKED');
        assert.equal(await codeOf(() => Pkcs11KeyStore.open({ ...token.config, tokenLabel: 'no-such-token' })), 'CA_KEY_LOCKED');
        assert.equal(await codeOf(() => Pkcs11KeyStore.open({ ...token.config, slot: token.slotId + 1 })), 'CA_KEY_LOCKED');
        assert.equal(await codeOf(() => Pkcs11KeyStore.open({ ...token.config, library: '/nonexistent/libpkcs11.so' })), 'KEYSTORE_FAILURE');
      } finally {
        store = Pkcs11KeyStore.open(token.config);
      }
    });

    it('opens by slot id alone, and shares one login between two stores in a process', async () => {
      await store.close();
      store = Pkcs11KeyStore.open({ ...token.config, tokenLabel: undefined, slot: token.slotId });
      const second = Pkcs11KeyStore.open(token.config);
      const h = handles.get('ec-p256')!;
      assert.equal(spki(await second.load(h.ref)), spki(h));
      // The token would accept any PIN once logged in; the store still checks it.
      assert.equal(await codeOf(() => Pkcs11KeyStore.open({ ...token.config, pin: '9999' })), 'CA_KEY_LOCKED');
      await second.close();
      assert.ok(verify('sha256', message, h.publicKey, (await store.load(h.ref)).sign(message)), 'the first store is still logged in');
    });

    it('answers KEY_ALGORITHM_UNSUPPORTED when the token lacks the Edwards mechanisms', async () => {
      await store.close();
      // SoftHSM 2.6.1 skips the first name after "-", hence the sacrificial CKM_MD5.
      token.configure(['slots.mechanisms = -CKM_MD5,CKM_EC_EDWARDS_KEY_PAIR_GEN,CKM_EDDSA']);
      try {
        store = Pkcs11KeyStore.open(token.config);
        assert.equal(await codeOf(() => store.generate('ed-refused', 'ed25519')), 'KEY_ALGORITHM_UNSUPPORTED');
      } finally {
        token.configure();
      }
    });

    it('lets a generation in flight finish before closing, then refuses its result', async () => {
      const inFlight = store.generate('closing-race', 'rsa-2048');
      await store.close();
      assert.equal(await codeOf(() => inFlight), 'KEYSTORE_FAILURE');
      store = Pkcs11KeyStore.open(token.config);
    });

    it('answers KEYSTORE_FAILURE once closed, from the store and from handles', async () => {
      const h = await store.load(handles.get('rsa-2048')!.ref);
      await store.close();
      assert.equal(await codeOf(() => h.sign(message)), 'KEYSTORE_FAILURE');
      assert.equal(await codeOf(() => store.load(h.ref)), 'KEYSTORE_FAILURE');
      assert.equal(await codeOf(() => store.generate('late', 'ec-p256')), 'KEYSTORE_FAILURE');
      await store.close();
      store = Pkcs11KeyStore.open(token.config);
    });
  });
});
