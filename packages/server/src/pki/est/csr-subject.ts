import { Pkcs10CertificateRequest, X509Certificate } from '@peculiar/x509';
import { PkiError } from '../errors.ts';

/**
 * RFC 7030 §4.2.2: a re-enrolment CSR's Subject must be identical to the certificate being
 * renewed. Compared as RFC 4514 strings so that a PrintableString/UTF8String choice in the CSR
 * does not refuse an otherwise identical name.
 */
export function assertSameSubject(csrDer: Buffer, certDer: Buffer): void {
  let csrSubject: string;
  try {
    csrSubject = new Pkcs10CertificateRequest(new Uint8Array(csrDer)).subject;
  } catch (cause) {
    throw new PkiError('CSR_INVALID', 'the CSR is not a well-formed PKCS#10 request', { cause });
  }
  const certSubject = new X509Certificate(new Uint8Array(certDer)).subject;
  if (csrSubject !== certSubject) {
    throw new PkiError('SUBJECT_MISMATCH', 'the CSR subject differs from the certificate being renewed', { details: { expected: certSubject } });
  }
}
