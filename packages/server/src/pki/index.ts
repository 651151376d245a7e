export { PkiError, pkiErrors } from './errors.ts';
export type { PkiErrorCode } from './errors.ts';
export { pkiMigrations } from './migrations.ts';
export type { PkiTables } from './tables.ts';
export type { KeyAlgorithm, KeyHandle, KeyStore, SecretStore } from './keystore/key-store.ts';
export { CA_NAMES } from './pki-contracts.ts';
export type { CaName, LoadedCa, OcspSignerIdentity, CertificateAuthorities, DeviceIdentityFacts, IssuedCertificate, Issuer, CertificateRecord, CertificateStore } from './pki-contracts.ts';
