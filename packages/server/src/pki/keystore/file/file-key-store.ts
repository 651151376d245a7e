import { createPrivateKey, randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PkiError } from '../../errors.ts';
import type { KeyAlgorithm, KeyHandle, KeyStore } from '../key-store.ts';
import { openEnvelope, sealEnvelope } from './envelope.ts';
import type { MasterKeyring } from './master-keyring.ts';
import { generatePrivateKey, NodeKeyHandle } from './node-key-handle.ts';

const LABEL = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const ALGORITHMS: readonly KeyAlgorithm[] = ['ec-p256', 'ec-p384', 'ed25519', 'rsa-2048', 'rsa-3072'];

/**
 * Private keys as PKCS#8 DER sealed with AES-256-GCM (see envelope.ts) in `<dataDir>/keys/`,
 * one file per key, mode 0600 in a 0700 directory. The ref is the label.
 */
export class FileKeyStore implements KeyStore {
  readonly kind = 'file' as const;
  readonly #ring: MasterKeyring;
  readonly #cache = new Map<string, Promise<KeyHandle>>();

  constructor(opts: { keyring: MasterKeyring }) {
    this.#ring = opts.keyring;
  }

  async generate(label: string, algorithm: KeyAlgorithm): Promise<KeyHandle> {
    if (!LABEL.test(label)) throw new PkiError('KEYSTORE_FAILURE', 'key label must be 1-100 of [A-Za-z0-9._-]');
    if (!ALGORITHMS.includes(algorithm)) throw new PkiError('KEYSTORE_FAILURE', 'unsupported key algorithm');
    const privateKey = await generatePrivateKey(algorithm);
    const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' });
    const sealed = await sealEnvelope(this.#ring, 'private-key', label, algorithm, pkcs8);
    pkcs8.fill(0);
    mkdirSync(this.#ring.keysDir, { recursive: true, mode: 0o700 });
    const final = this.#path(label);
    const tmp = `${final}.tmp-${randomBytes(6).toString('hex')}`;
    writeFileSync(tmp, sealed, { mode: 0o600, flag: 'wx' });
    try {
      // link() fails if the label exists: creation is atomic and never overwrites a key.
      linkSync(tmp, final);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new PkiError('KEYSTORE_FAILURE', code === 'EEXIST' ? 'a key with this label exists' : 'cannot write the key file', { cause: e, details: { label } });
    } finally {
      unlinkSync(tmp);
    }
    const handle = new NodeKeyHandle(label, algorithm, privateKey);
    this.#cache.set(label, Promise.resolve(handle));
    return handle;
  }

  load(ref: string): Promise<KeyHandle> {
    let p = this.#cache.get(ref);
    if (!p) {
      p = this.#load(ref);
      this.#cache.set(ref, p);
      p.catch(() => this.#cache.delete(ref));
    }
    return p;
  }

  async #load(ref: string): Promise<KeyHandle> {
    if (!LABEL.test(ref)) throw new PkiError('KEY_NOT_FOUND', 'no key with this ref', { details: { ref } });
    let file: Buffer;
    try {
      file = readFileSync(this.#path(ref));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new PkiError('KEY_NOT_FOUND', 'no key with this ref', { details: { ref } });
      throw new PkiError('KEYSTORE_FAILURE', 'cannot read the key file', { cause: e, details: { ref } });
    }
    const { meta, plaintext } = await openEnvelope(this.#ring, 'private-key', ref, file);
    const algorithm = ALGORITHMS.find((a) => a === meta);
    if (!algorithm) throw new PkiError('KEYSTORE_FAILURE', 'stored key has an unknown algorithm', { details: { ref } });
    try {
      return new NodeKeyHandle(ref, algorithm, createPrivateKey({ key: plaintext, format: 'der', type: 'pkcs8' }));
    } catch (e) {
      throw new PkiError('KEYSTORE_FAILURE', 'stored key is not a valid PKCS#8 key', { cause: e, details: { ref } });
    } finally {
      plaintext.fill(0);
    }
  }

  async close(): Promise<void> {
    this.#cache.clear();
  }

  #path(label: string): string {
    return join(this.#ring.keysDir, `${label}.key`);
  }
}
