import 'reflect-metadata';

export { Platform, VERSION, ADMIN_TOKEN_FILE } from './platform/index.ts';
export type { PlatformServices, InitResult, Listening } from './platform/index.ts';
export { loadConfig } from './config/index.ts';
export type { Config } from './config/index.ts';
export { createLogger } from './logging/index.ts';
export { errorCatalogue } from './http/index.ts';
export { Pkcs11KeyStore } from './pki/index.ts';
export { csrDerFromFile, parseCsr, MAX_BATCH_DEVICES, CaHierarchy, IssuanceService, DbCertificateStore, FactoryProvisioner, openKeyStore, MASTER_KEY_FILE } from './pki/index.ts';
export type { CaSummary, ProvisionedDevice, IssuedCertificate } from './pki/index.ts';
export { DeviceRegistry } from './devices/index.ts';
export type { Device, DeviceState } from './devices/index.ts';
export { AuditError, verifyAuditLog, describeProblem, buildInclusionProof, verifyInclusionProof, proofToJson, proofFromJson, checkpointJson, keyIdOf, entryPages, formatEntry, parseExportFormat } from './audit/index.ts';
export type { VerifyReport, AuditProblem, InclusionProof, ExportFormat } from './audit/index.ts';
export { pkcs7CertsOnly, EST_PREFIX } from './pki/index.ts';
export { readFeedPaths, VulnError, VulnService } from './vulns/index.ts';
export type { FeedImportReport, DeviceExposure, FirmwareVulnerability } from './vulns/index.ts';
export type { CertificateView } from './pki/index.ts';
