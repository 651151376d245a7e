import { oid, tlv } from './der-writer.ts';

const ID_SIGNED_DATA = oid('1.2.840.113549.1.7.2');
const ID_DATA = oid('1.2.840.113549.1.7.1');
const VERSION_1 = tlv(0x02, Buffer.from([1]));
const EMPTY_SET = Buffer.from([0x31, 0x00]);

/**
 * A degenerate "certs-only" CMS SignedData (RFC 5652 §5; RFC 7030 §4.1.3 and §4.2.3): no
 * signers, no content, only certificates. Written by hand because it is on every enrolment and
 * is a fixed frame around DER we already hold; pkijs would parse and re-encode every certificate
 * (bench/est.bench.ts measures both). Certificates keep the given order (leaf first), as OpenSSL
 * writes them; RFC 7030 clients do not depend on SET OF ordering.
 */
export function pkcs7CertsOnly(certificatesDer: readonly Buffer[]): Buffer {
  const signedData = tlv(0x30,
    VERSION_1,
    EMPTY_SET, // digestAlgorithms
    tlv(0x30, ID_DATA), // encapContentInfo without content
    tlv(0xa0, ...certificatesDer), // certificates [0] IMPLICIT CertificateSet
    EMPTY_SET, // signerInfos
  );
  return tlv(0x30, ID_SIGNED_DATA, tlv(0xa0, signedData));
}

/** The EST wire form: base64 with line breaks every 64 characters (RFC 7030 §4.1.3 / RFC 2045). */
export function base64Lines(der: Buffer): string {
  const b64 = der.toString('base64');
  let out = '';
  for (let i = 0; i < b64.length; i += 64) out += `${b64.slice(i, i + 64)}\n`;
  return out;
}
