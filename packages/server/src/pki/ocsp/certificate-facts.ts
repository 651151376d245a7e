import { children, contentOf, DerError, expectTlv, wholeOf } from './der.ts';

/** The parts of an X.509 certificate the revocation services hash or compare. */
export interface CertificateFacts {
  readonly serial: string;
  readonly issuerDer: Buffer;
  readonly subjectDer: Buffer;
  /** subjectPublicKey BIT STRING contents without the unused-bits byte (RFC 6960 KeyHash input). */
  readonly publicKeyBits: Buffer;
}

/** Reads serial, issuer, subject and public key bits from a DER certificate (RFC 5280 §4.1). */
export function certificateFacts(der: Buffer): CertificateFacts {
  const cert = expectTlv(der, 0, der.length, 0x30);
  const tbs = children(der, cert)[0];
  if (!tbs || tbs.tag !== 0x30) throw new DerError('tbsCertificate');
  const f = children(der, tbs);
  const o = f[0]?.tag === 0xa0 ? 1 : 0;
  const serial = f[o];
  const issuer = f[o + 2];
  const subject = f[o + 4];
  const spki = f[o + 5];
  if (!serial || serial.tag !== 0x02 || !issuer || !subject || !spki || spki.tag !== 0x30) throw new DerError('tbsCertificate fields');
  const bits = children(der, spki)[1];
  if (!bits || bits.tag !== 0x03 || bits.end - bits.start < 2) throw new DerError('subjectPublicKey');
  return {
    serial: contentOf(der, serial).toString('hex'),
    issuerDer: wholeOf(der, issuer),
    subjectDer: wholeOf(der, subject),
    publicKeyBits: der.subarray(bits.start + 1, bits.end),
  };
}
