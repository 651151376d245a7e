import { oid, sequence, setOf } from '@medtrust/core';

/**
 * What we ask of CSRs (RFC 7030 §4.5.2 CsrAttrs): signed with ECDSA-SHA256, an EC P-256 key,
 * and nothing else: the subject (CN = device id) and extensions are set by the Operational CA.
 * Also accepted, but not advertised: P-384, Ed25519 and RSA >= 2048 (docs/est.md).
 */
export const CSR_ATTRS_DER: Buffer = sequence(
  oid('1.2.840.10045.4.3.2'), // ecdsa-with-SHA256
  // Attribute { id-ecPublicKey, { secp256r1 } }: the curve a device should use (RFC 7030 §4.5.2 example).
  sequence(oid('1.2.840.10045.2.1'), setOf(oid('1.2.840.10045.3.1.7'))),
);
