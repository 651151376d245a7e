import { createPublicKey, generateKeyPair, type KeyObject, sign } from 'node:crypto';
import { promisify } from 'node:util';
import type { KeyAlgorithm, KeyHandle } from '../key-store.ts';

const generateKeyPairAsync = promisify(generateKeyPair);

/** The digest each key type signs with (KeyHandle contract); null for Ed25519 (pure EdDSA). */
export function digestFor(algorithm: KeyAlgorithm): string | null {
  switch (algorithm) {
    case 'ec-p256': return 'sha256';
    case 'ec-p384': return 'sha384';
    case 'ed25519': return null;
    case 'rsa-2048':
    case 'rsa-3072': return 'sha256';
    default: return algorithm satisfies never;
  }
}

/** Generates a private key of an algorithm with node:crypto. */
export async function generatePrivateKey(algorithm: KeyAlgorithm): Promise<KeyObject> {
  switch (algorithm) {
    case 'ec-p256': return (await generateKeyPairAsync('ec', { namedCurve: 'P-256' })).privateKey;
    case 'ec-p384': return (await generateKeyPairAsync('ec', { namedCurve: 'P-384' })).privateKey;
    case 'ed25519': return (await generateKeyPairAsync('ed25519')).privateKey;
    case 'rsa-2048': return (await generateKeyPairAsync('rsa', { modulusLength: 2048 })).privateKey;
    case 'rsa-3072': return (await generateKeyPairAsync('rsa', { modulusLength: 3072 })).privateKey;
    default: return algorithm satisfies never;
  }
}

/** A KeyHandle over an in-memory KeyObject: signing is one synchronous node:crypto call. */
export class NodeKeyHandle implements KeyHandle {
  readonly ref: string;
  readonly algorithm: KeyAlgorithm;
  readonly publicKey: KeyObject;
  readonly #privateKey: KeyObject;
  readonly #digest: string | null;

  constructor(ref: string, algorithm: KeyAlgorithm, privateKey: KeyObject) {
    this.ref = ref;
    this.algorithm = algorithm;
    this.#privateKey = privateKey;
    this.publicKey = createPublicKey(privateKey);
    this.#digest = digestFor(algorithm);
  }

  sign(data: Buffer): Buffer {
    return sign(this.#digest, data, this.#privateKey);
  }
}
