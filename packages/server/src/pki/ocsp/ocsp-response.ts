import { enumerated, generalizedTime, octetString, oid, seq, tlv, bitString } from './der.ts';

/** RFC 6960 §4.2.1 OCSPResponseStatus values that carry no responseBytes. */
export type OcspErrorStatus = 'malformedRequest' | 'internalError' | 'tryLater' | 'sigRequired' | 'unauthorized';

const ERROR_STATUS: Readonly<Record<OcspErrorStatus, number>> = { malformedRequest: 1, internalError: 2, tryLater: 3, sigRequired: 5, unauthorized: 6 };

/** The status of one certificate (RFC 6960 §4.2.1 CertStatus). */
export type CertStatus =
  | { readonly kind: 'good' }
  | { readonly kind: 'revoked'; readonly revokedAtMs: number; readonly reason: number | undefined }
  | { readonly kind: 'unknown' };

export interface SingleResponseInput {
  /** The CertID as the request carried it. */
  readonly certIdDer: Buffer;
  readonly status: CertStatus;
  readonly thisUpdateMs: number;
  readonly nextUpdateMs: number;
}

/** A responder identity with its constant parts pre-encoded. */
export interface OcspSigningParty {
  /** SHA-1 of the signer's subjectPublicKey BIT STRING contents (RFC 6960 §4.2.1 KeyHash). */
  readonly keyHash: Buffer;
  readonly signatureAlgorithmDer: Buffer;
  /** Certificates for the `certs` field: the delegated signer's certificate, or none when the CA signs. */
  readonly certsDer: readonly Buffer[];
  sign(data: Buffer): Buffer;
}

const BASIC_OID = oid('1.3.6.1.5.5.7.48.1.1');
const NONCE_OID = oid('1.3.6.1.5.5.7.48.1.2');
const GOOD = tlv(0x80);
const UNKNOWN = tlv(0x82);

/** DER of an OCSPResponse without responseBytes: `30 03 0A 01 <status>`. */
export function ocspErrorResponse(status: OcspErrorStatus): Buffer {
  return seq(enumerated(ERROR_STATUS[status]));
}

function certStatusDer(s: CertStatus): Buffer {
  switch (s.kind) {
    case 'good':
      return GOOD;
    case 'unknown':
      return UNKNOWN;
    case 'revoked': {
      // RFC 6960 §4.2.1: revoked [1] IMPLICIT RevokedInfo; the reason is [0] EXPLICIT CRLReason.
      const reason = s.reason === undefined ? [] : [tlv(0xa0, enumerated(s.reason))];
      return tlv(0xa1, generalizedTime(s.revokedAtMs), ...reason);
    }
    default:
      return s satisfies never;
  }
}

/**
 * A signed `successful` OCSPResponse with a BasicOCSPResponse (RFC 6960 §4.2.1), responderID
 * byKey, the signer certificate in `certs`, and the request's nonce echoed (RFC 8954 §2.1).
 */
export function buildOcspResponse(opts: { readonly signer: OcspSigningParty; readonly producedAtMs: number; readonly responses: readonly SingleResponseInput[]; readonly nonceExtnValue?: Buffer | undefined }): Buffer {
  const singles = opts.responses.map((r) => seq(r.certIdDer, certStatusDer(r.status), generalizedTime(r.thisUpdateMs), tlv(0xa0, generalizedTime(r.nextUpdateMs))));
  const exts = opts.nonceExtnValue ? [tlv(0xa1, seq(seq(NONCE_OID, octetString(opts.nonceExtnValue))))] : [];
  const tbs = seq(tlv(0xa2, octetString(opts.signer.keyHash)), generalizedTime(opts.producedAtMs), seq(...singles), ...exts);
  const signature = opts.signer.sign(tbs);
  const certs = opts.signer.certsDer.length > 0 ? [tlv(0xa0, seq(...opts.signer.certsDer))] : [];
  const basic = seq(tbs, opts.signer.signatureAlgorithmDer, bitString(signature), ...certs);
  return seq(enumerated(0), tlv(0xa0, seq(BASIC_OID, octetString(basic))));
}
