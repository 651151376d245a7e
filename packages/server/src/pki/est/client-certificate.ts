import { X509Certificate } from 'node:crypto';
import { PkiError } from '../errors.ts';
import type { CertificateRecord, CertificateStore, LoadedCa } from '../pki-contracts.ts';

/** Which of our certificates a client presented, once proven ours, current and unrevoked. */
export interface VerifiedClientCertificate {
  readonly record: CertificateRecord;
  readonly deviceId: string;
}

function parse(der: Buffer): X509Certificate {
  try {
    return new X509Certificate(der);
  } catch (cause) {
    throw new PkiError('CERT_INVALID', 'the client certificate cannot be parsed', { cause });
  }
}

/** Serial as the certificate store keys it (lower-case hex of the DER INTEGER contents). */
function serialCandidates(cert: X509Certificate): string[] {
  const hex = cert.serialNumber.toLowerCase();
  // OpenSSL prints the magnitude; DER adds a 00 byte when the top bit is set.
  return /^[89a-f]/.test(hex) ? [`00${hex}`, hex] : [hex];
}

/**
 * Checks a TLS client certificate in the application, because the listener requests but does
 * not require one (RFC 7030 §3.3.2): it must be signed by `ca`, be in our store byte for byte
 * with the expected profile and status `valid`, and be within its validity period.
 */
export async function verifyClientCertificate(opts: {
  readonly der: Buffer;
  readonly ca: LoadedCa;
  /** `ca`'s certificate, parsed once by the caller. */
  readonly caCertificate: X509Certificate;
  readonly profile: 'idevid' | 'ldevid';
  readonly store: CertificateStore;
  readonly nowMs: number;
}): Promise<VerifiedClientCertificate> {
  const cert = parse(opts.der);
  const caCert = opts.caCertificate;
  // RFC 5280 §6.1.3: the issuer name chains and the signature verifies under the CA's key.
  if (!cert.checkIssued(caCert) || !cert.verify(caCert.publicKey)) {
    throw new PkiError('CERT_UNTRUSTED', `the client certificate is not issued by the ${opts.ca.name} CA`, { details: { requiredCa: opts.ca.name } });
  }
  let record: CertificateRecord | undefined;
  for (const serial of serialCandidates(cert)) {
    record = await opts.store.get(serial);
    if (record) break;
  }
  // A certificate that verifies but that we never stored is not one we vouch for.
  if (!record || !Buffer.from(record.der).equals(opts.der)) throw new PkiError('CERT_UNTRUSTED', 'the client certificate is not one this platform issued');
  if (record.profile !== opts.profile || record.device_id === null) {
    throw new PkiError('CERT_UNTRUSTED', `an ${opts.profile === 'idevid' ? 'IDevID' : 'LDevID'} is required here, not a ${record.profile} certificate`, { details: { requiredProfile: opts.profile } });
  }
  if (record.status !== 'valid') throw new PkiError('CERT_REVOKED', `the client certificate is ${record.status}`, { details: { serial: record.serial } });
  if (opts.nowMs < record.not_before || opts.nowMs >= record.not_after) throw new PkiError('CERT_EXPIRED', 'the client certificate is outside its validity period', { details: { serial: record.serial } });
  return { record, deviceId: record.device_id };
}
