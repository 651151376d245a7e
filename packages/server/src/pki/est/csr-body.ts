import { DerDecodeError, readElement } from '@medtrust/core';
import { PkiError } from '../errors.ts';

/** Largest CSR we accept, decoded (the CSR_TOO_LARGE limit in the error catalogue). */
export const MAX_CSR_BYTES = 16 * 1024;
/** Largest request body: base64 of MAX_CSR_BYTES with line breaks, plus PEM armour. */
export const MAX_CSR_BODY_BYTES = 32 * 1024;

const PEM_ARMOUR = /-----(BEGIN|END) (NEW )?CERTIFICATE REQUEST-----/g;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Decodes an EST request body (RFC 7030 §4.2.1: base64 DER PKCS#10, with or without line breaks)
 * into DER. PEM armour is tolerated because `openssl req` writes it by default. Checks only the
 * outer framing; the issuer verifies the CSR itself (signature, key policy).
 */
export function decodeCsrBody(body: Buffer | string): Buffer {
  const text = (typeof body === 'string' ? body : body.toString('latin1')).replace(PEM_ARMOUR, '').replace(/[\r\n\t ]+/g, '');
  if (text.length === 0) throw new PkiError('CSR_INVALID', 'empty request body; send a base64 PKCS#10 CSR');
  if (!BASE64.test(text) || text.length % 4 === 1) throw new PkiError('CSR_INVALID', 'body is not base64');
  const der = Buffer.from(text, 'base64');
  if (der.length > MAX_CSR_BYTES) throw new PkiError('CSR_TOO_LARGE', `CSR is ${der.length} bytes; the limit is ${MAX_CSR_BYTES}`, { details: { limitBytes: MAX_CSR_BYTES } });
  // PKCS#10 is one DER SEQUENCE; a truncated or padded body is refused before any parsing.
  let end: number;
  try {
    end = readElement(der, 0).end;
  } catch (e) {
    if (!(e instanceof DerDecodeError)) throw e;
    end = -1;
  }
  if (der[0] !== 0x30 || end !== der.length) throw new PkiError('CSR_INVALID', 'body is not one complete DER SEQUENCE (truncated or trailing bytes)');
  return der;
}
