import { bitStringBytes, children, contentBytes, DerDecodeError, decodeOid, elementBytes, expectElement, readElement } from '@medtrust/core';
import { PkiError } from '../errors.ts';
import { Oid } from '../profiles/oids.ts';

/** The parts of an X.509 certificate the CA code needs, as views into its DER. */
export interface CertificateFields {
  readonly tbsDer: Buffer;
  /** Serial magnitude as lower-case hex (the `certificate.serial` column form). */
  readonly serialHex: string;
  readonly issuerDer: Buffer;
  readonly subjectDer: Buffer;
  readonly spkiDer: Buffer;
  /** The subjectPublicKey BIT STRING value (what key identifiers hash). */
  readonly subjectPublicKey: Buffer;
  /** keyIdentifier of the AuthorityKeyIdentifier extension, if present. */
  readonly authorityKeyId: Buffer | undefined;
}

/** Reads a DER certificate (RFC 5280 §4.1); CERT_INVALID if it is not well-formed. */
export function certificateFields(der: Buffer): CertificateFields {
  try {
    const cert = expectElement(der, 0, 0x30);
    if (cert.end !== der.length) throw new DerDecodeError('trailing bytes');
    const [tbs] = children(der, cert);
    if (!tbs || tbs.tag !== 0x30) throw new DerDecodeError('no TBSCertificate');
    const f = children(der, tbs);
    const i = f[0]?.tag === 0xa0 ? 1 : 0;
    const [serial, , issuer, , subject, spki] = f.slice(i);
    if (!serial || serial.tag !== 0x02 || !issuer || !subject || !spki || spki.tag !== 0x30) throw new DerDecodeError('incomplete TBSCertificate');
    const [, pk] = children(der, spki);
    if (!pk) throw new DerDecodeError('no subjectPublicKey');
    let authorityKeyId: Buffer | undefined;
    const extsTagged = f.find((e) => e.tag === 0xa3);
    if (extsTagged) {
      const exts = readElement(der, extsTagged.contentStart, extsTagged.end);
      for (const ext of children(der, exts)) {
        const parts = children(der, ext);
        const [id] = parts;
        const value = parts[parts.length - 1];
        if (!id || !value || decodeOid(der, id) !== Oid.authorityKeyIdentifier) continue;
        const aki = expectElement(der, value.contentStart, 0x30, value.end);
        const keyId = children(der, aki).find((e) => e.tag === 0x80);
        if (keyId) authorityKeyId = Buffer.from(contentBytes(der, keyId));
      }
    }
    let serialBytes = contentBytes(der, serial);
    while (serialBytes.length > 1 && serialBytes[0] === 0) serialBytes = serialBytes.subarray(1);
    return {
      tbsDer: elementBytes(der, tbs),
      serialHex: serialBytes.toString('hex'),
      issuerDer: elementBytes(der, issuer),
      subjectDer: elementBytes(der, subject),
      spkiDer: elementBytes(der, spki),
      subjectPublicKey: bitStringBytes(der, pk),
      authorityKeyId,
    };
  } catch (e) {
    if (e instanceof DerDecodeError) throw new PkiError('CERT_INVALID', 'not a well-formed X.509 certificate', { cause: e });
    throw e;
  }
}
