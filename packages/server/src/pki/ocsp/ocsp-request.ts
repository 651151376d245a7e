import { children, contentOf, DerError, expectTlv, readTlv, wholeOf } from './der.ts';

/** The hash algorithms a CertID may use (RFC 6960 §4.1.1; RFC 5019 clients use SHA-1). */
export type CertIdHash = 'sha1' | 'sha256';

export interface OcspCertId {
  readonly hash: CertIdHash;
  readonly issuerNameHash: Buffer;
  readonly issuerKeyHash: Buffer;
  /** Hex of the serialNumber INTEGER content bytes, lower case (the `certificate.serial` form). */
  readonly serial: string;
  /** The CertID exactly as the client sent it, echoed in the SingleResponse. */
  readonly der: Buffer;
}

export interface OcspRequest {
  readonly certIds: readonly OcspCertId[];
  /** extnValue of the nonce extension (the DER OCTET STRING holding the nonce), if sent. */
  readonly nonceExtnValue: Buffer | undefined;
}

/** Why a request is refused: `malformed` is RFC 6960 malformedRequest. */
export class OcspRequestError extends Error {}

/** RFC 6960 does not bound requestList; we do, so one request cannot ask for a whole CA. */
export const MAX_CERT_IDS = 16;
const SHA1_ALG = Buffer.from('06052b0e03021a', 'hex');
const SHA256_ALG = Buffer.from('0609608648016503040201', 'hex');
const NONCE_OID = Buffer.from('06092b0601050507300102', 'hex');

function hashAlgorithm(buf: Buffer, alg: ReturnType<typeof readTlv>): CertIdHash {
  const parts = children(buf, alg);
  const id = parts[0] ? wholeOf(buf, parts[0]) : undefined;
  // RFC 5754 §2: the parameters may be absent or NULL.
  if (parts.length > 2 || (parts[1] && !(parts[1].tag === 0x05 && parts[1].end === parts[1].start))) throw new OcspRequestError('bad hash parameters');
  if (id?.equals(SHA1_ALG)) return 'sha1';
  if (id?.equals(SHA256_ALG)) return 'sha256';
  throw new OcspRequestError('unsupported CertID hash algorithm');
}

function certId(buf: Buffer, t: ReturnType<typeof readTlv>): OcspCertId {
  const [alg, nameHash, keyHash, serial, ...rest] = children(buf, t);
  if (!alg || !nameHash || !keyHash || !serial || rest.length > 0) throw new OcspRequestError('CertID shape');
  if (alg.tag !== 0x30 || nameHash.tag !== 0x04 || keyHash.tag !== 0x04 || serial.tag !== 0x02) throw new OcspRequestError('CertID types');
  const hash = hashAlgorithm(buf, alg);
  const size = hash === 'sha1' ? 20 : 32;
  if (nameHash.end - nameHash.start !== size || keyHash.end - keyHash.start !== size) throw new OcspRequestError('CertID hash length');
  const serialBytes = contentOf(buf, serial);
  // RFC 5280 §4.1.2.2: serials are positive and at most 20 octets (21 with DER's sign byte).
  if (serialBytes.length === 0 || serialBytes.length > 21) throw new OcspRequestError('serial length');
  return { hash, issuerNameHash: contentOf(buf, nameHash), issuerKeyHash: contentOf(buf, keyHash), serial: serialBytes.toString('hex'), der: wholeOf(buf, t) };
}

function nonceOf(buf: Buffer, extsWrapper: ReturnType<typeof readTlv>): Buffer | undefined {
  const [exts, more] = children(buf, extsWrapper);
  if (!exts || more || exts.tag !== 0x30) throw new OcspRequestError('requestExtensions shape');
  let nonce: Buffer | undefined;
  for (const ext of children(buf, exts)) {
    if (ext.tag !== 0x30) throw new OcspRequestError('Extension shape');
    const parts = children(buf, ext);
    const id = parts[0];
    const value = parts[parts.length - 1];
    if (!id || id.tag !== 0x06 || !value || value.tag !== 0x04 || parts.length > 3) throw new OcspRequestError('Extension shape');
    if (!wholeOf(buf, id).equals(NONCE_OID)) continue;
    if (nonce) throw new OcspRequestError('duplicate nonce');
    const extnValue = contentOf(buf, value);
    const inner = readTlv(extnValue, 0);
    if (inner.tag !== 0x04 || inner.end !== extnValue.length) throw new OcspRequestError('nonce is not an OCTET STRING');
    const n = inner.end - inner.start;
    // RFC 8954 §2.1: Nonce ::= OCTET STRING (SIZE(1..32)); other lengths are malformedRequest.
    if (n < 1 || n > 32) throw new OcspRequestError('nonce length');
    nonce = Buffer.from(extnValue);
  }
  return nonce;
}

/** Parses a DER OCSPRequest (RFC 6960 §4.1.1); throws OcspRequestError when malformed. */
export function parseOcspRequest(buf: Buffer): OcspRequest {
  try {
    const top = expectTlv(buf, 0, buf.length, 0x30);
    if (top.end !== buf.length) throw new OcspRequestError('trailing data');
    const [tbs, sig, extra] = children(buf, top);
    if (!tbs || tbs.tag !== 0x30 || extra || (sig && sig.tag !== 0xa0)) throw new OcspRequestError('OCSPRequest shape');
    // The optional request signature is not required by this responder (RFC 6960 §4.1.2), so it is not checked.
    const parts = children(buf, tbs);
    let i = 0;
    if (parts[i]?.tag === 0xa0) {
      const v = children(buf, parts[i]!);
      // RFC 6960 §4.1.1: only v1 (0) exists.
      if (v.length !== 1 || v[0]!.tag !== 0x02 || !contentOf(buf, v[0]!).equals(Buffer.from([0]))) throw new OcspRequestError('version');
      i++;
    }
    if (parts[i]?.tag === 0xa1) i++;
    const list = parts[i++];
    if (!list || list.tag !== 0x30) throw new OcspRequestError('requestList');
    let nonceExtnValue: Buffer | undefined;
    if (parts[i]?.tag === 0xa2) nonceExtnValue = nonceOf(buf, parts[i++]!);
    if (i !== parts.length) throw new OcspRequestError('TBSRequest trailing fields');
    const requests = children(buf, list);
    if (requests.length === 0 || requests.length > MAX_CERT_IDS) throw new OcspRequestError('requestList size');
    const certIds = requests.map((r) => {
      if (r.tag !== 0x30) throw new OcspRequestError('Request shape');
      const [id, exts, more] = children(buf, r);
      if (!id || id.tag !== 0x30 || more || (exts && exts.tag !== 0xa0)) throw new OcspRequestError('Request shape');
      return certId(buf, id);
    });
    return { certIds, nonceExtnValue };
  } catch (e) {
    if (e instanceof DerError) throw new OcspRequestError(e.message, { cause: e });
    throw e;
  }
}
