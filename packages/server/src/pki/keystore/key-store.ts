import type { KeyObject } from 'node:crypto';

/** Key types the platform creates for itself (CA, OCSP, TUF, command signing). */
export type KeyAlgorithm = 'ec-p256' | 'ec-p384' | 'ed25519' | 'rsa-2048' | 'rsa-3072';

/**
 * A private key the platform may use but never sees in clear on disk. `sign` uses the
 * algorithm's X.509 signature scheme: ECDSA with SHA-256 (P-256) or SHA-384 (P-384), returning a
 * DER ECDSA-Sig-Value; Ed25519 (pure); RSA PKCS#1 v1.5 with SHA-256.
 */
export interface KeyHandle {
  readonly ref: string;
  readonly algorithm: KeyAlgorithm;
  readonly publicKey: KeyObject;
  /** Synchronous so that the issuance hot path does no extra awaits per certificate. */
  sign(data: Buffer): Buffer;
}

/** Where private keys live: an encrypted file store or an HSM over PKCS#11. */
export interface KeyStore {
  readonly kind: 'file' | 'pkcs11';
  /** Creates a key under a label unique in the store; returns its handle (ref is stable). */
  generate(label: string, algorithm: KeyAlgorithm): Promise<KeyHandle>;
  /** Loads a key by the ref `generate` returned; KEY_NOT_FOUND or CA_KEY_LOCKED on failure. */
  load(ref: string): Promise<KeyHandle>;
  close(): Promise<void>;
}

/**
 * Symmetric secrets (PHI field keys, HMAC keys), encrypted at rest under the master key.
 * `get` creates a 32-byte random secret on first use of a label.
 */
export interface SecretStore {
  get(label: string): Promise<Buffer>;
}
