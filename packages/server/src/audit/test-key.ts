import { generateKeyPairSync, sign } from 'node:crypto';
import type { KeyHandle } from '../pki/index.ts';

/** A node:crypto key wrapped as a KeyHandle, for tests of checkpoint signing. */
export function testKeyHandle(algorithm: 'ed25519' | 'ec-p256' = 'ed25519'): KeyHandle {
  const { privateKey, publicKey } = algorithm === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    ref: `test:${algorithm}`, algorithm, publicKey,
    sign: (data) => (algorithm === 'ed25519' ? sign(null, data, privateKey) : sign('sha256', data, { key: privateKey, dsaEncoding: 'der' })),
  };
}
