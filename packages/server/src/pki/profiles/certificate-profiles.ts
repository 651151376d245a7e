import { createHash, randomBytes } from 'node:crypto';
import type { CaName } from '../pki-contracts.ts';
import { authorityInfoAccess, authorityKeyIdentifier, basicConstraints, crlDistributionPoints, extKeyUsage, keyUsage, KeyUsageBit, ocspNoCheck } from './extensions.ts';
import { Oid } from './oids.ts';

/** The kinds of certificate the platform issues; see docs/pki-profiles.md. */
export type CertificateProfile = 'idevid' | 'ldevid' | 'tls-server' | 'ocsp-signer' | 'ca';
export type EndEntityProfile = Exclude<CertificateProfile, 'ca'>;

const DAY_MS = 86_400_000;
/** Backdating of notBefore for end-entity certificates, for devices whose clock runs a little behind. */
export const NOT_BEFORE_SKEW_MS = 5 * 60_000;

/** Validity of the platform's own certificates (CA validity nests inside the root's). */
export const Validity = Object.freeze({
  rootDays: 30 * 365,
  manufacturingDays: 25 * 365,
  operationalDays: 10 * 365,
  infrastructureDays: 10 * 365,
  ocspSignerDays: 2 * 365,
  /** An OCSP signer this close to expiry is re-issued by `init()`. */
  ocspSignerRenewBeforeDays: 30,
  tlsServerDays: 365,
});

export const daysMs = (days: number): number => days * DAY_MS;

/** Where relying parties find a CA's CRL, OCSP responder and certificate (config.publicUrl). */
export interface IssuerUrls {
  readonly crl: string;
  readonly ocsp: string;
  readonly caIssuers: string;
}

export function issuerUrls(publicUrl: string, ca: CaName): IssuerUrls {
  const base = publicUrl.replace(/\/+$/, '');
  return { crl: `${base}/pki/crl/${ca}.crl`, ocsp: `${base}/ocsp`, caIssuers: `${base}/pki/ca/${ca}.crt` };
}

/** The extensions every certificate below the root carries: AKI, CRL DP and AIA. */
function issuerExtensions(issuerKeyId: Buffer, urls: IssuerUrls): Buffer[] {
  return [authorityKeyIdentifier(issuerKeyId), crlDistributionPoints(urls.crl), authorityInfoAccess(urls.ocsp, urls.caIssuers)];
}

/**
 * The extensions of an end-entity profile that are the same for every certificate a CA issues
 * (everything except the subject key identifier and subject alternative names).
 */
export function endEntityExtensions(profile: EndEntityProfile, issuerKeyId: Buffer, urls: IssuerUrls, opts: { rsaKey?: boolean } = {}): Buffer[] {
  const common = [basicConstraints(false)];
  switch (profile) {
    // IEEE 802.1AR §8: the IDevID is for authentication; no EKU so as not to limit future uses.
    case 'idevid':
      return [...common, keyUsage([KeyUsageBit.digitalSignature]), ...issuerExtensions(issuerKeyId, urls)];
    case 'ldevid':
      return [...common, keyUsage([KeyUsageBit.digitalSignature]), extKeyUsage([Oid.clientAuth]), ...issuerExtensions(issuerKeyId, urls)];
    case 'tls-server':
      // RFC 5246 RSA key exchange needs keyEncipherment; (EC)DHE with ECDSA/EdDSA only signs.
      return [...common, keyUsage(opts.rsaKey ? [KeyUsageBit.digitalSignature, KeyUsageBit.keyEncipherment] : [KeyUsageBit.digitalSignature]), extKeyUsage([Oid.serverAuth]), ...issuerExtensions(issuerKeyId, urls)];
    case 'ocsp-signer':
      // RFC 6960 §4.2.2.2: delegated signer has id-kp-OCSPSigning; §4.2.2.2.1 ocsp-nocheck.
      return [...common, keyUsage([KeyUsageBit.digitalSignature]), extKeyUsage([Oid.ocspSigning]), ocspNoCheck(), ...issuerExtensions(issuerKeyId, urls)];
    default:
      return profile satisfies never;
  }
}

/** CA certificate extensions (RFC 5280 §4.2.1.9, §4.2.1.3): the root has no AKI, CRL DP or AIA. */
export function caExtensions(opts: { pathLen: number; issuer?: { keyId: Buffer; urls: IssuerUrls } }): Buffer[] {
  const own = [basicConstraints(true, opts.pathLen), keyUsage([KeyUsageBit.keyCertSign, KeyUsageBit.cRLSign])];
  return opts.issuer ? [...own, ...issuerExtensions(opts.issuer.keyId, opts.issuer.urls)] : own;
}

/**
 * A certificate serial: 16 random octets, the top bit cleared (positive) and the next set, so
 * the DER INTEGER is always 16 octets and its hex has no leading zeros (RFC 5280 §4.1.2.2;
 * CA/B BR §7.1 asks for 64+ random bits, this has 126).
 */
export function newSerial(): Buffer {
  const b = randomBytes(16);
  b[0] = ((b[0] as number) & 0x7f) | 0x40;
  return b;
}

/**
 * The RFC 4108 hwType OID of a device model, under the UUID arc 2.25 (ITU-T X.667), which needs
 * no registration: the UUID is name-based (SHA-1, version 5 layout) from the model name.
 */
export function modelTypeOid(model: string): string {
  const h = createHash('sha1').update('medtrust:device-model:').update(model, 'utf8').digest().subarray(0, 16);
  h[6] = ((h[6] as number) & 0x0f) | 0x50;
  h[8] = ((h[8] as number) & 0x3f) | 0x80;
  return `2.25.${BigInt(`0x${h.toString('hex')}`).toString(10)}`;
}
