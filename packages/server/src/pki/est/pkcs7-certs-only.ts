import { explicit, implicit, integer, oid, sequence, setOf } from '@medtrust/core';

const ID_SIGNED_DATA = oid('1.2.840.113549.1.7.2');
const ID_DATA = oid('1.2.840.113549.1.7.1');
const VERSION_1 = integer(1);
const EMPTY_SET = setOf();

/**
 * A degenerate "certs-only" CMS SignedData (RFC 5652 §5; RFC 7030 §4.1.3 and §4.2.3): no
 * signers, no content, only certificates. Framed by hand around DER we already hold because it
 * is on every enrolment; pkijs would parse and re-encode every certificate (bench/est.bench.ts
 * measures both; pkcs7-certs-only.test.ts checks the bytes against pkijs). Certificates keep the
 * given order (leaf first), as OpenSSL writes them; RFC 7030 clients do not rely on SET OF order.
 */
export function pkcs7CertsOnly(certificatesDer: readonly Buffer[]): Buffer {
  const signedData = sequence(
    VERSION_1,
    EMPTY_SET, // digestAlgorithms
    sequence(ID_DATA), // encapContentInfo without content
    implicit(0, Buffer.concat(certificatesDer), true), // certificates [0] IMPLICIT CertificateSet
    EMPTY_SET, // signerInfos
  );
  return sequence(ID_SIGNED_DATA, explicit(0, signedData));
}

/** The EST wire form: base64 with line breaks every 64 characters (RFC 7030 §4.1.3 / RFC 2045). */
export function base64Lines(der: Buffer): string {
  const b64 = der.toString('base64');
  let out = '';
  for (let i = 0; i < b64.length; i += 64) out += `${b64.slice(i, i + 64)}\n`;
  return out;
}
