// Test helper: parses what we emit with pkijs/@peculiar/x509 (not our DER code) and checks the
// signature with node:crypto and the signer's public key.
import 'reflect-metadata';
import { verify as cryptoVerify, X509Certificate as NodeX509 } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';

const HASH_BY_SIG_OID: Readonly<Record<string, string | null>> = {
  '1.2.840.10045.4.3.2': 'sha256', '1.2.840.10045.4.3.3': 'sha384', '1.3.101.112': null, '1.2.840.113549.1.1.11': 'sha256',
};

function verifySig(sigOid: string, tbs: Buffer, signature: Buffer, signerCertDer: Buffer): boolean {
  const hash = HASH_BY_SIG_OID[sigOid];
  if (hash === undefined) throw new Error(`unexpected signature algorithm ${sigOid}`);
  const key = new NodeX509(signerCertDer).publicKey;
  return cryptoVerify(hash, tbs, key.asymmetricKeyType === 'ec' ? { key, dsaEncoding: 'der' } : key, signature);
}

export interface ParsedSingle {
  readonly status: 'good' | 'revoked' | 'unknown';
  readonly revokedAt?: Date;
  readonly reason?: number;
  readonly serialHex: string;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | undefined;
}

export interface ParsedOcsp {
  readonly responseStatus: number;
  readonly singles: readonly ParsedSingle[];
  readonly nonce: Buffer | undefined;
  readonly signatureValid: boolean | undefined;
  readonly responderKeyHash: Buffer | undefined;
  readonly certs: readonly Buffer[];
  readonly producedAt: Date | undefined;
}

/** Parses an OCSPResponse with pkijs; verifies the signature with the embedded (or given) signer certificate. */
export function parseOcspIndependently(der: Buffer, signerCertDer?: Buffer): ParsedOcsp {
  const resp = pkijs.OCSPResponse.fromBER(new Uint8Array(der));
  const responseStatus = resp.responseStatus.valueBlock.valueDec;
  if (!resp.responseBytes) return { responseStatus, singles: [], nonce: undefined, signatureValid: undefined, responderKeyHash: undefined, certs: [], producedAt: undefined };
  if (resp.responseBytes.responseType !== '1.3.6.1.5.5.7.48.1.1') throw new Error('not a basic response');
  const basic = pkijs.BasicOCSPResponse.fromBER(new Uint8Array(resp.responseBytes.response.valueBlock.valueHexView));
  const certs = (basic.certs ?? []).map((c) => Buffer.from(c.toSchema().toBER()));
  const signer = signerCertDer ?? certs[0];
  const signatureValid = signer ? verifySig(basic.signatureAlgorithm.algorithmId, Buffer.from(basic.tbsResponseData.tbsView), Buffer.from(basic.signature.valueBlock.valueHexView), signer) : undefined;
  const rid: unknown = basic.tbsResponseData.responderID;
  const responderKeyHash = rid instanceof asn1js.OctetString ? Buffer.from(rid.valueBlock.valueHexView) : undefined;
  const singles = basic.tbsResponseData.responses.map((s): ParsedSingle => {
    const tag = (s.certStatus as asn1js.BaseBlock).idBlock.tagNumber;
    const base = { serialHex: Buffer.from(s.certID.serialNumber.valueBlock.valueHexView).toString('hex'), thisUpdate: s.thisUpdate, nextUpdate: s.nextUpdate };
    if (tag === 0) return { ...base, status: 'good' };
    if (tag === 2) return { ...base, status: 'unknown' };
    const parts = (s.certStatus as asn1js.Constructed).valueBlock.value;
    const time = parts[0] as asn1js.GeneralizedTime;
    const reasonWrap = parts[1] as asn1js.Constructed | undefined;
    const reason = reasonWrap ? (reasonWrap.valueBlock.value[0] as asn1js.Enumerated).valueBlock.valueDec : undefined;
    return { ...base, status: 'revoked', revokedAt: time.toDate(), ...(reason === undefined ? {} : { reason }) };
  });
  const nonceExt = basic.tbsResponseData.responseExtensions?.find((e) => e.extnID === '1.3.6.1.5.5.7.48.1.2');
  return { responseStatus, singles, nonce: nonceExt ? Buffer.from(nonceExt.extnValue.valueBlock.valueHexView) : undefined, signatureValid, responderKeyHash, certs, producedAt: basic.tbsResponseData.producedAt };
}

export interface ParsedCrl {
  readonly version: number;
  readonly crlNumber: number | undefined;
  readonly authorityKeyId: Buffer | undefined;
  readonly entries: readonly { serialHex: string; reason: number | undefined; date: Date }[];
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | undefined;
  readonly issuerDer: Buffer;
  readonly signatureValid: boolean;
}

/** Parses a DER CRL with pkijs and verifies its signature with the CA certificate's key. */
export function parseCrlIndependently(der: Buffer, caCertDer: Buffer): ParsedCrl {
  const crl = pkijs.CertificateRevocationList.fromBER(new Uint8Array(der));
  const ext = (id: string): pkijs.Extension | undefined => crl.crlExtensions?.extensions.find((e) => e.extnID === id);
  const num = ext('2.5.29.20');
  const aki = ext('2.5.29.35');
  return {
    version: crl.version,
    crlNumber: num ? (asn1js.fromBER(num.extnValue.valueBlock.valueHexView).result as asn1js.Integer).valueBlock.valueDec : undefined,
    authorityKeyId: aki ? Buffer.from((aki.parsedValue as pkijs.AuthorityKeyIdentifier).keyIdentifier!.valueBlock.valueHexView) : undefined,
    entries: (crl.revokedCertificates ?? []).map((r) => {
      const rc = r.crlEntryExtensions?.extensions.find((e) => e.extnID === '2.5.29.21');
      return {
        serialHex: Buffer.from(r.userCertificate.valueBlock.valueHexView).toString('hex'),
        reason: rc ? (asn1js.fromBER(rc.extnValue.valueBlock.valueHexView).result as asn1js.Enumerated).valueBlock.valueDec : undefined,
        date: r.revocationDate.value,
      };
    }),
    thisUpdate: crl.thisUpdate.value,
    nextUpdate: crl.nextUpdate?.value,
    issuerDer: Buffer.from(crl.issuer.toSchema().toBER()),
    signatureValid: verifySig(crl.signatureAlgorithm.algorithmId, Buffer.from(crl.tbsView), Buffer.from(crl.signatureValue.valueBlock.valueHexView), caCertDer),
  };
}
