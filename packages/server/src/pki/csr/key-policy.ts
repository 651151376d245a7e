import { createPublicKey, type KeyObject } from 'node:crypto';
import { children, decodeOid, DerDecodeError, type DerElement, expectElement, bitStringBytes } from '@medtrust/core';
import { PkiError } from '../errors.ts';
import { Oid } from '../profiles/oids.ts';

/** Public key types a device may certify. */
export type DeviceKeyType = 'ec-p256' | 'ec-p384' | 'ed25519' | 'rsa';

export interface CheckedPublicKey {
  readonly type: DeviceKeyType;
  readonly publicKey: KeyObject;
  /** RSA modulus size; undefined for other types. */
  readonly rsaBits: number | undefined;
}

/** Smallest RSA modulus accepted (NIST SP 800-57 Pt 1 §5.6.1: 112-bit security). */
export const MIN_RSA_BITS = 2048;

const CURVES: Readonly<Record<string, { type: 'ec-p256' | 'ec-p384'; crv: string; coordBytes: number }>> = {
  [Oid.p256]: { type: 'ec-p256', crv: 'P-256', coordBytes: 32 },
  [Oid.p384]: { type: 'ec-p384', crv: 'P-384', coordBytes: 48 },
};

/**
 * Applies the key policy (EC P-256/P-384, Ed25519, RSA >= 2048; anything else
 * KEY_POLICY_VIOLATION) and imports the key. Structural faults are DerDecodeError (callers map
 * them to their code); a key whose bytes node:crypto refuses is CSR_INVALID.
 */
export function checkPublicKey(buf: Buffer, spki: DerElement): CheckedPublicKey {
  const [algId, bits, extra] = children(buf, spki);
  if (!algId || !bits || extra) throw new DerDecodeError('SubjectPublicKeyInfo must have two fields');
  const algParts = children(buf, expectElement(buf, algId.start, 0x30, algId.end));
  const [algOid, params, more] = algParts;
  if (!algOid || more) throw new DerDecodeError('bad AlgorithmIdentifier');
  const alg = decodeOid(buf, algOid);
  const key = bitStringBytes(buf, bits);
  switch (alg) {
    case Oid.ecPublicKey: {
      // RFC 5480 §2.1.1: parameters are a namedCurve OID; implicit/specified curves are refused.
      if (!params || params.tag !== 0x06) throw new PkiError('KEY_POLICY_VIOLATION', 'EC keys must name their curve');
      const curveOid = decodeOid(buf, params);
      const curve = CURVES[curveOid];
      if (!curve) throw new PkiError('KEY_POLICY_VIOLATION', 'EC curve not allowed (P-256 or P-384 only)', { details: { curve: curveOid } });
      return { type: curve.type, publicKey: importEcKey(buf, spki, key, curve), rsaBits: undefined };
    }
    case Oid.ed25519: {
      // RFC 8410 §3: parameters MUST be absent.
      if (params || key.length !== 32) throw new DerDecodeError('bad Ed25519 key');
      return { type: 'ed25519', publicKey: importKey(() => createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: key.toString('base64url') }, format: 'jwk' })), rsaBits: undefined };
    }
    case Oid.rsaEncryption: {
      const publicKey = importKey(() => createPublicKey({ key: buf.subarray(spki.start, spki.end), format: 'der', type: 'spki' }));
      const rsaBits = publicKey.asymmetricKeyDetails?.modulusLength ?? 0;
      if (rsaBits < MIN_RSA_BITS) throw new PkiError('KEY_POLICY_VIOLATION', `RSA keys must be at least ${MIN_RSA_BITS} bits`, { details: { rsaBits } });
      return { type: 'rsa', publicKey, rsaBits };
    }
    default:
      throw new PkiError('KEY_POLICY_VIOLATION', 'public key algorithm not allowed', { details: { algorithm: alg } });
  }
}

function importEcKey(buf: Buffer, spki: DerElement, point: Buffer, curve: { crv: string; coordBytes: number }): KeyObject {
  // Uncompressed points go through JWK: ~2x faster than the SPKI decoder of OpenSSL 3 on this
  // hot path. Either way OpenSSL checks that the point is on the curve.
  if (point.length === 1 + 2 * curve.coordBytes && point[0] === 0x04) {
    const x = point.subarray(1, 1 + curve.coordBytes).toString('base64url');
    const y = point.subarray(1 + curve.coordBytes).toString('base64url');
    return importKey(() => createPublicKey({ key: { kty: 'EC', crv: curve.crv, x, y }, format: 'jwk' }));
  }
  if (point.length === 1 + curve.coordBytes && (point[0] === 0x02 || point[0] === 0x03)) {
    return importKey(() => createPublicKey({ key: buf.subarray(spki.start, spki.end), format: 'der', type: 'spki' }));
  }
  throw new DerDecodeError('bad EC point encoding');
}

function importKey(f: () => KeyObject): KeyObject {
  try {
    return f();
  } catch (e) {
    throw new PkiError('CSR_INVALID', 'the public key is not valid', { cause: e });
  }
}
