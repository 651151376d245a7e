import { bitString, constructed, DerTag, explicit, integer, sequence, tlv, x509Time } from './der-writer.ts';

/** What changes per certificate; everything else is fixed in the template. */
export interface TbsVariableParts {
  /** Serial number magnitude (positive; RFC 5280 §4.1.2.2: at most 20 octets). */
  readonly serial: Buffer;
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
  /** DER Name. */
  readonly subjectDer: Buffer;
  /** DER SubjectPublicKeyInfo. */
  readonly spkiDer: Buffer;
  /** Complete Extension TLVs specific to this certificate (SKI, SAN), appended after the fixed ones. */
  readonly extensionsDer?: readonly Buffer[];
}

const VERSION_V3 = explicit(0, integer(2));

/**
 * Builds TBSCertificates (RFC 5280 §4.1) from precomputed bytes: the version, signature
 * algorithm and issuer Name are encoded once; fixed extensions once. Per certificate only the
 * serial, validity, subject, public key and per-certificate extensions are encoded.
 */
export class TbsTemplate {
  readonly #head: Buffer;
  readonly #sigAlgIssuer: Buffer;
  readonly #fixedExtensions: Buffer;

  constructor(opts: { readonly signatureAlgorithmDer: Buffer; readonly issuerDer: Buffer; readonly fixedExtensionsDer: readonly Buffer[] }) {
    this.#head = VERSION_V3;
    this.#sigAlgIssuer = Buffer.concat([opts.signatureAlgorithmDer, opts.issuerDer]);
    this.#fixedExtensions = Buffer.concat(opts.fixedExtensionsDer);
  }

  build(v: TbsVariableParts): Buffer {
    if (v.serial.length === 0 || v.serial.length > 20 || ((v.serial[0] ?? 0) & 0x80) !== 0) throw new RangeError('serial must be 1-20 octets and positive');
    const validity = sequence(x509Time(v.notBeforeMs), x509Time(v.notAfterMs));
    const extList = v.extensionsDer && v.extensionsDer.length > 0 ? Buffer.concat([this.#fixedExtensions, ...v.extensionsDer]) : this.#fixedExtensions;
    const parts: Buffer[] = [this.#head, integer(v.serial), this.#sigAlgIssuer, validity, v.subjectDer, v.spkiDer];
    if (extList.length > 0) parts.push(explicit(3, tlv(DerTag.SEQUENCE, extList)));
    return constructed(DerTag.SEQUENCE, parts);
  }
}

/** Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue } (RFC 5280 §4.1). */
export function assembleCertificate(tbs: Buffer, signatureAlgorithmDer: Buffer, signature: Buffer): Buffer {
  return sequence(tbs, signatureAlgorithmDer, bitString(signature));
}
