import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import type { KeyAlgorithm, KeyHandle, KeyStore } from '../pki/index.ts';

/**
 * For tests only: keys held in memory, made with node:crypto, signing as KeyHandle documents
 * (Ed25519 pure, ECDSA P-256 with SHA-256 as DER). Not for production: nothing is encrypted.
 */
export class TestKeyStore implements KeyStore {
  readonly kind = 'file' as const;
  readonly #keys = new Map<string, KeyHandle>();
  readonly labels: string[] = [];

  async generate(label: string, algorithm: KeyAlgorithm): Promise<KeyHandle> {
    if (this.labels.includes(label)) throw new Error(`label ${label} exists`);
    let privateKey: KeyObject;
    let publicKey: KeyObject;
    let digest: string | null;
    switch (algorithm) {
      case 'ed25519':
        ({ privateKey, publicKey } = generateKeyPairSync('ed25519'));
        digest = null;
        break;
      case 'ec-p256':
        ({ privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' }));
        digest = 'sha256';
        break;
      default:
        throw new Error(`TestKeyStore does not make ${algorithm}`);
    }
    const ref = `test:${label}`;
    const handle: KeyHandle = { ref, algorithm, publicKey, sign: (data) => sign(digest, data, privateKey) };
    this.#keys.set(ref, handle);
    this.labels.push(label);
    return handle;
  }

  async load(ref: string): Promise<KeyHandle> {
    const h = this.#keys.get(ref);
    if (!h) throw new Error(`no key ${ref}`);
    return h;
  }

  async close(): Promise<void> {}
}
