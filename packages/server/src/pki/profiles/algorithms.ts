import type { KeyObject } from 'node:crypto';
import { bitStringBytes, children, expectElement, NULL_DER, oid, sequence } from '@medtrust/core';
import type { KeyAlgorithm } from '../keystore/key-store.ts';
import { Oid } from './oids.ts';

/** AlgorithmIdentifier DER of the signature a key of this type makes (RFC 5758 §3.2, RFC 8410 §3, RFC 4055 §5). */
export function signatureAlgorithmDer(algorithm: KeyAlgorithm): Buffer {
  switch (algorithm) {
    // RFC 5758 §3.2: the parameters field MUST be absent for ECDSA.
    case 'ec-p256': return sequence(oid(Oid.ecdsaWithSha256));
    case 'ec-p384': return sequence(oid(Oid.ecdsaWithSha384));
    case 'ed25519': return sequence(oid(Oid.ed25519));
    // RFC 4055 §5: NULL parameters for sha*WithRSAEncryption.
    case 'rsa-2048':
    case 'rsa-3072': return sequence(oid(Oid.sha256WithRsa), NULL_DER);
    default: return algorithm satisfies never;
  }
}

/** SubjectPublicKeyInfo DER of a public key. */
export function spkiDer(publicKey: KeyObject): Buffer {
  return publicKey.export({ format: 'der', type: 'spki' });
}

/** The subjectPublicKey BIT STRING value inside SubjectPublicKeyInfo DER (what key identifiers hash). */
export function subjectPublicKeyOf(spki: Buffer): Buffer {
  const seq = expectElement(spki, 0, 0x30);
  const [, bits] = children(spki, seq);
  if (!bits) throw new RangeError('SubjectPublicKeyInfo without a key');
  return bitStringBytes(spki, bits);
}
