import { createHash, createPublicKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';
import pkcs11js from 'pkcs11js';
import type { Mechanism, Template } from 'pkcs11js';
import type { KeyAlgorithm } from '../key-store.ts';
import { PkiError } from '../../errors.ts';
import { rawEcdsaToDer } from './ecdsa-signature.ts';

// PKCS#11 v3.0 values that pkcs11js 2.x (a v2.40 binding) does not name.
const CKK_EC_EDWARDS = 0x40;
const CKM_EC_EDWARDS_KEY_PAIR_GEN = 0x1055;
const CKM_EDDSA = 0x1057;

// DER OBJECT IDENTIFIERs for CKA_EC_PARAMS (PKCS#11 v3.0 §2.3.3: namedCurve choice).
const OID_P256 = Buffer.from('06082a8648ce3d030107', 'hex'); // 1.2.840.10045.3.1.7 (RFC 5480)
const OID_P384 = Buffer.from('06052b81040022', 'hex'); // 1.3.132.0.34 (RFC 5480)
const OID_ED25519 = Buffer.from('06032b6570', 'hex'); // 1.3.101.112 (RFC 8410)

/** What C_GenerateKeyPair needs beyond the attributes every key pair gets. */
export interface GenerationSpec {
  readonly keyType: number;
  readonly mechanism: Mechanism;
  readonly publicAttributes: Template;
}

/** Key type, mechanism and public-key attributes for generating `algorithm` on the token. */
export function generationSpec(algorithm: KeyAlgorithm): GenerationSpec {
  switch (algorithm) {
    case 'ec-p256':
    case 'ec-p384':
      return {
        keyType: pkcs11js.CKK_EC,
        mechanism: { mechanism: pkcs11js.CKM_EC_KEY_PAIR_GEN },
        publicAttributes: [{ type: pkcs11js.CKA_EC_PARAMS, value: algorithm === 'ec-p256' ? OID_P256 : OID_P384 }],
      };
    case 'ed25519':
      return {
        keyType: CKK_EC_EDWARDS,
        mechanism: { mechanism: CKM_EC_EDWARDS_KEY_PAIR_GEN },
        publicAttributes: [{ type: pkcs11js.CKA_EC_PARAMS, value: OID_ED25519 }],
      };
    case 'rsa-2048':
    case 'rsa-3072':
      return {
        keyType: pkcs11js.CKK_RSA,
        mechanism: { mechanism: pkcs11js.CKM_RSA_PKCS_KEY_PAIR_GEN },
        publicAttributes: [
          { type: pkcs11js.CKA_MODULUS_BITS, value: algorithm === 'rsa-2048' ? 2048 : 3072 },
          { type: pkcs11js.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) },
        ],
      };
    default:
      return algorithm satisfies never;
  }
}

/** How one algorithm signs through the token: mechanism, input and output shaping. */
export interface SignSpec {
  readonly mechanism: Mechanism;
  readonly maxSignatureBytes: number;
  /** What goes into C_Sign for the message `data`. */
  input(data: Buffer): Buffer;
  /** What KeyHandle.sign returns for the token's output. */
  output(signature: Buffer): Buffer;
}

const same = (b: Buffer): Buffer => b;

function ecdsa(hash: 'sha256' | 'sha384', fieldBytes: number): SignSpec {
  return {
    // CKM_ECDSA signs a caller-computed hash; SoftHSM2 has no CKM_ECDSA_SHA384.
    mechanism: { mechanism: pkcs11js.CKM_ECDSA },
    maxSignatureBytes: 2 * fieldBytes,
    input: (data) => createHash(hash).update(data).digest(),
    output: (raw) => {
      if (raw.length !== 2 * fieldBytes) throw new PkiError('KEYSTORE_FAILURE', `PKCS#11: ECDSA signature of ${raw.length} bytes`);
      return rawEcdsaToDer(raw);
    },
  };
}

/** The X.509 signature scheme of `algorithm` (see KeyHandle) as PKCS#11 calls. */
export function signSpec(algorithm: KeyAlgorithm): SignSpec {
  switch (algorithm) {
    case 'ec-p256':
      return ecdsa('sha256', 32);
    case 'ec-p384':
      return ecdsa('sha384', 48);
    case 'ed25519':
      // RFC 8032 PureEdDSA: the token hashes internally, so the message goes in whole.
      return { mechanism: { mechanism: CKM_EDDSA }, maxSignatureBytes: 64, input: same, output: same };
    case 'rsa-2048':
    case 'rsa-3072':
      return { mechanism: { mechanism: pkcs11js.CKM_SHA256_RSA_PKCS }, maxSignatureBytes: 512, input: same, output: same };
    default:
      return algorithm satisfies never;
  }
}

/** The mechanisms the token must offer to generate and use `algorithm`. */
export function requiredMechanisms(algorithm: KeyAlgorithm): number[] {
  return [generationSpec(algorithm).mechanism.mechanism, signSpec(algorithm).mechanism.mechanism];
}

/** Attribute types `publicKeyFromAttributes` reads from the public key object. */
export const PUBLIC_KEY_ATTRIBUTES: Record<'ec' | 'rsa', readonly number[]> = {
  ec: [pkcs11js.CKA_EC_PARAMS, pkcs11js.CKA_EC_POINT],
  rsa: [pkcs11js.CKA_MODULUS, pkcs11js.CKA_PUBLIC_EXPONENT],
};

/** Reads a CK_ULONG attribute (native byte order, as pkcs11js returns it). */
export function readUlong(value: Buffer): number {
  return Number(value.length >= 8 ? value.readBigUInt64LE(0) : value.readUInt32LE(0));
}

/** Whether the key type is one of the EC families (Weierstrass or Edwards). */
export function isEcKeyType(keyType: number): boolean {
  return keyType === pkcs11js.CKK_EC || keyType === CKK_EC_EDWARDS;
}

function b64u(b: Uint8Array): string {
  return Buffer.from(b).toString('base64url');
}

// PKCS#11 v2.40 §2.3.3: CKA_EC_POINT is the DER OCTET STRING of the point; some tokens give the
// bare point, so accept both.
function ecPoint(value: Buffer, bareLength: number): Buffer {
  if (value.length === bareLength) return value;
  const parsed = asn1js.fromBER(value);
  if (parsed.offset === -1 || !(parsed.result instanceof asn1js.OctetString)) {
    throw new PkiError('KEYSTORE_FAILURE', 'PKCS#11: CKA_EC_POINT is not a DER OCTET STRING');
  }
  return Buffer.from(parsed.result.valueBlock.valueHexView);
}

function unsupported(what: string): PkiError {
  return new PkiError('KEY_ALGORITHM_UNSUPPORTED', `PKCS#11: key on the token is ${what}`, { details: { key: what } });
}

/** Builds the public KeyObject and names the algorithm from the public key object's attributes. */
export function publicKeyFromAttributes(keyType: number, attrs: ReadonlyMap<number, Buffer>): { algorithm: KeyAlgorithm; publicKey: KeyObject } {
  const get = (type: number): Buffer => {
    const v = attrs.get(type);
    if (v === undefined) throw new PkiError('KEYSTORE_FAILURE', `PKCS#11: public key attribute 0x${type.toString(16)} missing`);
    return v;
  };
  if (keyType === pkcs11js.CKK_RSA) {
    const n = get(pkcs11js.CKA_MODULUS);
    const bits = (n.length - (n[0] === 0 ? 1 : 0)) * 8;
    if (bits !== 2048 && bits !== 3072) throw unsupported(`RSA-${bits}`);
    const publicKey = createPublicKey({ key: { kty: 'RSA', n: b64u(n), e: b64u(get(pkcs11js.CKA_PUBLIC_EXPONENT)) }, format: 'jwk' });
    return { algorithm: bits === 2048 ? 'rsa-2048' : 'rsa-3072', publicKey };
  }
  const params = get(pkcs11js.CKA_EC_PARAMS);
  const point = get(pkcs11js.CKA_EC_POINT);
  if (keyType === CKK_EC_EDWARDS) {
    if (!params.equals(OID_ED25519)) throw unsupported('an Edwards curve other than Ed25519');
    return { algorithm: 'ed25519', publicKey: createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64u(ecPoint(point, 32)) }, format: 'jwk' }) };
  }
  if (keyType === pkcs11js.CKK_EC) {
    const curve = params.equals(OID_P256) ? { algorithm: 'ec-p256' as const, crv: 'P-256', len: 32 } : params.equals(OID_P384) ? { algorithm: 'ec-p384' as const, crv: 'P-384', len: 48 } : undefined;
    if (curve === undefined) throw unsupported('on an EC curve other than P-256 or P-384');
    const raw = ecPoint(point, 1 + 2 * curve.len);
    // SEC 1 §2.3.3: only the uncompressed form (0x04 || X || Y) carries both coordinates.
    if (raw.length !== 1 + 2 * curve.len || raw[0] !== 0x04) throw new PkiError('KEYSTORE_FAILURE', 'PKCS#11: EC point is not uncompressed');
    const x = raw.subarray(1, 1 + curve.len);
    const y = raw.subarray(1 + curve.len);
    return { algorithm: curve.algorithm, publicKey: createPublicKey({ key: { kty: 'EC', crv: curve.crv, x: b64u(x), y: b64u(y) }, format: 'jwk' }) };
  }
  throw unsupported(`of key type 0x${keyType.toString(16)}`);
}
