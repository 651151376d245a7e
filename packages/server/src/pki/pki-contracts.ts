import type { KeyObject } from 'node:crypto';
import type { KeyHandle } from './keystore/key-store.ts';
import type { CertificateTable } from './tables.ts';

/**
 * The seams between the PKI parts (CA hierarchy, issuance, store, revocation, CRL, OCSP, EST).
 * Each is implemented in its own folder and passed to the others at construction.
 */

/** The issuing and signing identities of the platform. */
export type CaName = 'root' | 'manufacturing' | 'operational' | 'infrastructure';
export const CA_NAMES: readonly CaName[] = ['root', 'manufacturing', 'operational', 'infrastructure'];

export interface LoadedCa {
  readonly name: CaName;
  readonly certificateDer: Buffer;
  readonly certificatePem: string;
  readonly key: KeyHandle;
  /** DER of the CA's subject Name (the issuer Name of what it signs). */
  readonly subjectDer: Buffer;
  /** SHA-1 of the subjectPublicKey BIT STRING contents (RFC 5280 §4.2.1.2 method 1; OCSP keyHash). */
  readonly keyId: Buffer;
  /** SHA-1 of subjectDer (OCSP issuerNameHash). */
  readonly nameSha1: Buffer;
  /** DER certificates from this CA up to and including the root. */
  readonly chainDer: readonly Buffer[];
}

/** The delegated OCSP signer: certificate with id-kp-OCSPSigning and id-pkix-ocsp-nocheck. */
export interface OcspSignerIdentity {
  readonly certificateDer: Buffer;
  readonly key: KeyHandle;
  /** The CA that issued the signer certificate (responses cover this CA's certificates). */
  readonly issuer: CaName;
}

export interface CertificateAuthorities {
  /** CA_NOT_INITIALISED when `medtrust init` has not run. */
  get(name: CaName): Promise<LoadedCa>;
  /**
   * The OCSP signer for certificates issued by `issuer` (one per issuing CA). `fresh` re-reads
   * storage, for a signer another node may have renewed.
   */
  ocspSigner(issuer: CaName, opts?: { readonly fresh?: boolean }): Promise<OcspSignerIdentity>;
  /** Which CA issued a certificate, by its authority key identifier or issuer name; undefined if none of ours. */
  findIssuer(certDer: Buffer): Promise<LoadedCa | undefined>;
}

export interface DeviceIdentityFacts {
  readonly id: string;
  readonly serial: string;
  readonly model: string;
  readonly hardwareRevision: string;
}

export interface IssuedCertificate {
  readonly serial: string;
  readonly der: Buffer;
  readonly pem: string;
  /** Issued certificate then its CA chain up to the root, PEM. */
  readonly chainPem: string;
  readonly notBefore: number;
  readonly notAfter: number;
}

export interface Issuer {
  /** IEEE 802.1AR birth certificate from the Manufacturing CA, from a CSR or a public key. */
  issueIdevid(req: { readonly device: DeviceIdentityFacts; readonly csrDer?: Buffer; readonly publicKey?: KeyObject; readonly actor: string }): Promise<IssuedCertificate>;
  /**
   * LDevID from the Operational CA. Verifies the CSR (proof of possession), the key policy, and
   * that the key was not issued to another device. `replacesSerial` marks that one superseded.
   */
  issueLdevid(req: { readonly deviceId: string; readonly csrDer: Buffer; readonly replacesSerial?: string; readonly actor: string }): Promise<IssuedCertificate>;
  /** TLS server certificate for the platform's own listeners, from the infrastructure issuer. */
  issueTlsServer(req: { readonly hostnames: readonly string[]; readonly ipAddresses: readonly string[]; readonly publicKey: KeyObject }): Promise<IssuedCertificate>;
}

export type CertificateRecord = Readonly<CertificateTable>;

export interface CertificateStore {
  get(serial: string): Promise<CertificateRecord | undefined>;
  /** The device's current (valid) certificate of a profile, if any. */
  currentForDevice(deviceId: string, profile: 'idevid' | 'ldevid'): Promise<CertificateRecord | undefined>;
  /** Revoked certificates of a CA, for its CRL. */
  revokedBy(caName: CaName): Promise<readonly CertificateRecord[]>;
}
