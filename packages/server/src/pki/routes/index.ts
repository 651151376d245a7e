export { publicPkiRoutes } from './public-pki-routes.ts';
export type { PublicPkiDeps } from './public-pki-routes.ts';
export { certificateRoutes, scopeOf } from './certificate-routes.ts';
export type { CertificateRouteDeps } from './certificate-routes.ts';
export { ocspFastPath, MAX_OCSP_REQUEST_BYTES } from './ocsp-fast-path.ts';
