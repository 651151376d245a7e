import { createHash } from 'node:crypto';
import { canonicalJson } from '@medtrust/core';
import type { KeyHandle } from '../../pki/index.ts';

/** A public key as TUF metadata carries it (TUF 1.0 §4.2 KEYS). */
export interface TufPublicKey {
  readonly keytype: 'ed25519' | 'ecdsa';
  readonly scheme: 'ed25519' | 'ecdsa-sha2-nistp256';
  readonly keyval: { readonly public: string };
}

export interface TufSignature {
  readonly keyid: string;
  readonly sig: string;
}

/**
 * The TUF form of a key handle: Ed25519 as 64 hex chars of the raw key; P-256 as a PEM SPKI
 * (the encodings @tufjs/models' getPublicKey accepts). Other algorithms are refused.
 */
export function tufPublicKey(handle: KeyHandle): TufPublicKey {
  switch (handle.algorithm) {
    case 'ed25519': {
      const spki = handle.publicKey.export({ format: 'der', type: 'spki' });
      // SPKI of Ed25519 is a fixed 12-byte prefix and the 32-byte key (RFC 8410 §4).
      return { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: spki.subarray(spki.length - 32).toString('hex') } };
    }
    case 'ec-p256':
      return { keytype: 'ecdsa', scheme: 'ecdsa-sha2-nistp256', keyval: { public: String(handle.publicKey.export({ format: 'pem', type: 'spki' })) } };
    case 'ec-p384':
    case 'rsa-2048':
    case 'rsa-3072':
      throw new TypeError(`TUF keys must be ed25519 or ec-p256, not ${handle.algorithm}`);
    default:
      return handle.algorithm satisfies never;
  }
}

/** TUF 1.0 §4.2: KEYID is the hex SHA-256 of the canonical JSON of the public key object. */
export function tufKeyId(key: TufPublicKey): string {
  return createHash('sha256').update(canonicalJson(key)).digest('hex');
}

/** Signs the canonical JSON of `signed` (TUF 1.0 §4.2: signatures cover the canonical form). */
export function signTuf(signed: unknown, handle: KeyHandle, keyId: string): TufSignature {
  return { keyid: keyId, sig: handle.sign(Buffer.from(canonicalJson(signed), 'utf8')).toString('hex') };
}
