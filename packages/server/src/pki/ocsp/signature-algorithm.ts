import type { KeyAlgorithm } from '../keystore/key-store.ts';
import { oid, seq, tlv } from './der.ts';

const NULL = tlv(0x05);

/**
 * DER AlgorithmIdentifier of the signature `KeyHandle.sign` makes for a key algorithm
 * (RFC 5758 §3.2 ECDSA without parameters, RFC 8410 §3 Ed25519, RFC 4055 RSA with NULL).
 */
export function signatureAlgorithmDer(alg: KeyAlgorithm): Buffer {
  switch (alg) {
    case 'ec-p256':
      return seq(oid('1.2.840.10045.4.3.2'));
    case 'ec-p384':
      return seq(oid('1.2.840.10045.4.3.3'));
    case 'ed25519':
      return seq(oid('1.3.101.112'));
    case 'rsa-2048':
    case 'rsa-3072':
      return seq(oid('1.2.840.113549.1.1.11'), NULL);
    default:
      return alg satisfies never;
  }
}
