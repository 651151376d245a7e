export { signatureAlgorithmDer } from './signature-algorithm.ts';
export { certificateFacts } from './certificate-facts.ts';
export type { CertificateFacts } from './certificate-facts.ts';
export { parseOcspRequest, OcspRequestError, MAX_CERT_IDS } from './ocsp-request.ts';
export type { OcspRequest, OcspCertId, CertIdHash } from './ocsp-request.ts';
export { buildOcspResponse, ocspErrorResponse } from './ocsp-response.ts';
export type { CertStatus, OcspErrorStatus, OcspSigningParty, SingleResponseInput } from './ocsp-response.ts';
export { OcspResponder } from './ocsp-responder.ts';
export type { OcspAnswer, OcspOutcome } from './ocsp-responder.ts';
