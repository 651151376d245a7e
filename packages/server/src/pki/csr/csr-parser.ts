import { type KeyObject, verify } from 'node:crypto';
import { children, contentBytes, decodeOid, DerDecodeError, elementBytes, expectElement } from '@medtrust/core';
import { PkiError } from '../errors.ts';
import { Oid } from '../profiles/oids.ts';
import { checkPublicKey, type DeviceKeyType } from './key-policy.ts';

/** RFC 7030 leaves the size open; 16 KiB is far above any real device CSR. */
export const MAX_CSR_BYTES = 16 * 1024;

/** A PKCS#10 request whose signature verified (proof of possession) and whose key passed the policy. */
export interface VerifiedCsr {
  readonly der: Buffer;
  /** DER Name the device asked for (the RA decides the issued subject). */
  readonly subjectDer: Buffer;
  readonly spkiDer: Buffer;
  readonly publicKey: KeyObject;
  readonly keyType: DeviceKeyType;
  /** Content of the [0] attributes (e.g. challengePassword, extensionRequest), as DER. */
  readonly attributesDer: Buffer;
}

/** Signature algorithms allowed per key type, with their digest (RFC 5758 §3.2, RFC 8410 §3, RFC 4055 §5). */
const SIGNATURES: Readonly<Record<string, { readonly keys: readonly DeviceKeyType[]; readonly digest: string | null; readonly nullParamsOk: boolean }>> = {
  [Oid.ecdsaWithSha256]: { keys: ['ec-p256', 'ec-p384'], digest: 'sha256', nullParamsOk: false },
  [Oid.ecdsaWithSha384]: { keys: ['ec-p256', 'ec-p384'], digest: 'sha384', nullParamsOk: false },
  [Oid.ecdsaWithSha512]: { keys: ['ec-p256', 'ec-p384'], digest: 'sha512', nullParamsOk: false },
  [Oid.ed25519]: { keys: ['ed25519'], digest: null, nullParamsOk: false },
  [Oid.sha256WithRsa]: { keys: ['rsa'], digest: 'sha256', nullParamsOk: true },
  [Oid.sha384WithRsa]: { keys: ['rsa'], digest: 'sha384', nullParamsOk: true },
  [Oid.sha512WithRsa]: { keys: ['rsa'], digest: 'sha512', nullParamsOk: true },
};

/**
 * Parses and verifies a DER PKCS#10 CertificationRequest (RFC 2986). Errors: CSR_TOO_LARGE,
 * CSR_INVALID (malformed, or signature does not verify), KEY_POLICY_VIOLATION. Never any other.
 */
export function parseCsr(der: Buffer): VerifiedCsr {
  if (der.length > MAX_CSR_BYTES) throw new PkiError('CSR_TOO_LARGE', `CSR is larger than ${MAX_CSR_BYTES} bytes`, { details: { bytes: der.length } });
  try {
    return parseStrict(der);
  } catch (e) {
    if (e instanceof PkiError) throw e;
    throw new PkiError('CSR_INVALID', 'not a well-formed PKCS#10 request', { cause: e });
  }
}

function parseStrict(der: Buffer): VerifiedCsr {
  const req = expectElement(der, 0, 0x30);
  if (req.end !== der.length) throw new DerDecodeError('trailing bytes after the request');
  const [cri, sigAlg, sig, extra] = children(der, req);
  if (!cri || !sigAlg || !sig || extra) throw new DerDecodeError('CertificationRequest must have three fields');
  const [version, subject, spki, attrs, more] = children(der, expectElement(der, cri.start, 0x30, cri.end));
  if (!version || !subject || !spki || !attrs || more) throw new DerDecodeError('CertificationRequestInfo must have four fields');
  // RFC 2986 §4.1: version is 0 (v1).
  if (version.tag !== 0x02 || version.end - version.contentStart !== 1 || der[version.contentStart] !== 0) throw new DerDecodeError('version must be 0');
  if (subject.tag !== 0x30 || spki.tag !== 0x30 || attrs.tag !== 0xa0) throw new DerDecodeError('bad CertificationRequestInfo');
  children(der, subject);
  children(der, attrs);
  const key = checkPublicKey(der, spki);

  const [sigOid, sigParams, sigMore] = children(der, expectElement(der, sigAlg.start, 0x30, sigAlg.end));
  if (!sigOid || sigMore) throw new DerDecodeError('bad signature AlgorithmIdentifier');
  const spec = SIGNATURES[decodeOid(der, sigOid)];
  if (!spec || !spec.keys.includes(key.type)) throw new PkiError('CSR_INVALID', 'signature algorithm not allowed for this key');
  if (sigParams && !(spec.nullParamsOk && sigParams.tag === 0x05 && sigParams.end === sigParams.contentStart)) throw new DerDecodeError('unexpected signature parameters');
  if (sig.tag !== 0x03 || sig.end === sig.contentStart || der[sig.contentStart] !== 0) throw new DerDecodeError('bad signature BIT STRING');
  const signature = der.subarray(sig.contentStart + 1, sig.end);
  const signed = elementBytes(der, cri);
  // RFC 2986 §3 / RFC 7030 §3.4: the signature proves possession of the private key.
  let ok: boolean;
  try {
    ok = verify(spec.digest, signed, key.publicKey, signature);
  } catch (e) {
    throw new PkiError('CSR_INVALID', 'CSR signature is malformed', { cause: e });
  }
  if (!ok) throw new PkiError('CSR_INVALID', 'CSR signature does not verify (no proof of possession)');
  return {
    der,
    subjectDer: elementBytes(der, subject),
    spkiDer: elementBytes(der, spki),
    publicKey: key.publicKey,
    keyType: key.type,
    attributesDer: contentBytes(der, attrs),
  };
}

/** A CSR file as devices write it: DER, or PEM `CERTIFICATE REQUEST` (RFC 7468 §7). */
export function csrDerFromFile(bytes: Buffer): Buffer {
  const head = bytes.subarray(0, 64).toString('latin1');
  if (!head.includes('-----BEGIN')) return bytes;
  const m = /-----BEGIN (NEW )?CERTIFICATE REQUEST-----([A-Za-z0-9+/=\s]+)-----END (NEW )?CERTIFICATE REQUEST-----/.exec(bytes.toString('latin1'));
  if (!m?.[2]) throw new PkiError('CSR_INVALID', 'not a PEM certificate request');
  return Buffer.from(m[2].replace(/\s+/g, ''), 'base64');
}
