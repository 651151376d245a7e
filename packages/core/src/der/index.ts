export { DerTag, derLength, tlv, constructed, sequence, setOf, integer, boolean, NULL_DER, oid, bitString, namedBits, octetString, utf8String, printableString, isPrintableString, ia5String, explicit, implicit, NO_EXPIRY_MS, x509Time, toPem } from './der-writer.ts';
export { DerDecodeError, readElement, expectElement, children, decodeOid, bitStringBytes, elementBytes, contentBytes } from './der-reader.ts';
export type { DerElement } from './der-reader.ts';
export { TbsTemplate, assembleCertificate } from './tbs-template.ts';
export type { TbsVariableParts } from './tbs-template.ts';
