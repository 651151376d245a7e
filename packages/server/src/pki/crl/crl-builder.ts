import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { signatureAlgorithmDer } from '../ocsp/index.ts';
import type { LoadedCa } from '../pki-contracts.ts';
import type { RevokedEntry } from '../revocation/index.ts';

export interface CrlInput {
  readonly ca: LoadedCa;
  readonly crlNumber: number;
  readonly thisUpdateMs: number;
  readonly nextUpdateMs: number;
  readonly entries: readonly RevokedEntry[];
}

// RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050.
const time = (ms: number): pkijs.Time => new pkijs.Time({ type: new Date(ms).getUTCFullYear() < 2050 ? pkijs.TimeType.UTCTime : pkijs.TimeType.GeneralizedTime, value: new Date(Math.floor(ms / 1000) * 1000) });

function authorityKeyId(ca: LoadedCa): Buffer {
  // RFC 5280 §5.2.1: the CRL's AKI must match the CA certificate's subject key identifier.
  const ski = new x509.X509Certificate(new Uint8Array(ca.certificateDer)).getExtension(x509.SubjectKeyIdentifierExtension);
  return ski ? Buffer.from(ski.keyId, 'hex') : ca.keyId;
}

function ext(extnID: string, value: asn1js.BaseBlock): pkijs.Extension {
  return new pkijs.Extension({ extnID, critical: false, extnValue: value.toBER() });
}

/**
 * A DER v2 CRL (RFC 5280 §5) with CRL number and authority key identifier, and a reasonCode entry
 * extension where the reason is not unspecified. Built with pkijs (not a hot path); the signature
 * comes from the CA's KeyHandle so HSM-held keys work.
 */
export function buildCrl(input: CrlInput): Buffer {
  const { ca } = input;
  const algorithm = new pkijs.AlgorithmIdentifier({ schema: asn1js.fromBER(signatureAlgorithmDer(ca.key.algorithm)).result });
  const revoked = input.entries.map((e) => new pkijs.RevokedCertificate({
    userCertificate: new asn1js.Integer({ valueHex: Buffer.from(e.serial, 'hex') }),
    revocationDate: time(e.revokedAtMs),
    // RFC 5280 §5.3.1: reasonCode unspecified SHOULD be absent.
    ...(e.reason === undefined ? {} : { crlEntryExtensions: new pkijs.Extensions({ extensions: [ext('2.5.29.21', new asn1js.Enumerated({ value: e.reason }))] }) }),
  }));
  const aki = new pkijs.AuthorityKeyIdentifier({ keyIdentifier: new asn1js.OctetString({ valueHex: authorityKeyId(ca) }) });
  const crl = new pkijs.CertificateRevocationList({
    version: 1,
    signature: algorithm,
    issuer: pkijs.RelativeDistinguishedNames.fromBER(new Uint8Array(ca.subjectDer)),
    thisUpdate: time(input.thisUpdateMs),
    nextUpdate: time(input.nextUpdateMs),
    ...(revoked.length > 0 ? { revokedCertificates: revoked } : {}),
    crlExtensions: new pkijs.Extensions({ extensions: [ext('2.5.29.35', aki.toSchema()), ext('2.5.29.20', new asn1js.Integer({ value: input.crlNumber }))] }),
    signatureAlgorithm: algorithm,
  });
  // pkijs only signs through WebCrypto; encoding the TBS ourselves lets a KeyHandle (file or HSM) sign.
  crl.tbsView = new Uint8Array((crl as unknown as { encodeTBS(): asn1js.Sequence }).encodeTBS().toBER());
  const signature = ca.key.sign(Buffer.from(crl.tbsView));
  crl.signatureValue = new asn1js.BitString({ valueHex: signature });
  return Buffer.from((crl.toSchema() as asn1js.Sequence).toBER());
}
