export { EstService } from './est-service.ts';
export type { EstDeviceRegistry, EstCredentials, EstEnrolment } from './est-service.ts';
export { estRoutes, EST_PREFIX } from './est-routes.ts';
export { pkcs7CertsOnly, base64Lines } from './pkcs7-certs-only.ts';
export { decodeCsrBody, MAX_CSR_BYTES } from './csr-body.ts';
