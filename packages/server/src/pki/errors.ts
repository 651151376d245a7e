import { defineErrors, MedTrustError } from '@medtrust/core';

/** PKI, EST, CRL and OCSP error codes. EST statuses follow RFC 7030 §4.2.3. */
export const pkiErrors = defineErrors({
  CSR_INVALID: { status: 400, meaning: 'The CSR is not a well-formed PKCS#10 request, or its signature does not verify (no proof of possession).', fix: 'Send a DER PKCS#10 CSR, base64-encoded for EST, signed with the key it carries.' },
  CSR_TOO_LARGE: { status: 413, meaning: 'The CSR is larger than 16 KiB.', fix: 'Send a CSR without unneeded extensions.' },
  KEY_POLICY_VIOLATION: { status: 400, meaning: 'The public key type or size is not allowed (EC P-256/P-384, Ed25519, RSA >= 2048).', fix: 'Generate a key of an allowed type and size.' },
  KEY_REUSED: { status: 409, meaning: 'This public key was already issued a certificate for another device.', fix: 'Generate a fresh key pair on the device.' },
  SUBJECT_MISMATCH: { status: 400, meaning: 'The CSR subject differs from the certificate being renewed.', fix: 'Re-enrol with the subject of the current certificate (RFC 7030 §4.2.2).' },
  CERT_INVALID: { status: 400, meaning: 'A certificate could not be parsed or is malformed.', fix: 'Send a DER or PEM X.509 certificate.' },
  CERT_REVOKED: { status: 403, meaning: 'The client certificate presented is revoked or superseded.', fix: 'Enrol the device again with an enrolment secret.' },
  CERT_EXPIRED: { status: 403, meaning: 'The client certificate presented has expired or is not yet valid.', fix: 'Enrol the device again with an enrolment secret.' },
  CERT_UNTRUSTED: { status: 403, meaning: 'The client certificate does not chain to the CA this operation requires.', fix: 'Present an IDevID from the Manufacturing CA (enrol) or an LDevID from the Operational CA (re-enrol).' },
  CERT_NOT_FOUND: { status: 404, meaning: 'No certificate with that serial number.', fix: 'Check the serial (hex) with `medtrust cert list`.' },
  CERT_ALREADY_REVOKED: { status: 409, meaning: 'The certificate is already revoked.', fix: 'Nothing to do; check its status over OCSP.' },
  REVOCATION_REASON_INVALID: { status: 400, meaning: 'The revocation reason is not an RFC 5280 CRLReason.', fix: 'Use one of: unspecified, keyCompromise, cACompromise, affiliationChanged, superseded, cessationOfOperation, certificateHold, privilegeWithdrawn, aACompromise (removeFromCRL belongs to delta CRLs and is refused).' },
  CA_UNKNOWN: { status: 404, meaning: 'No CA by that name.', fix: 'Use root, manufacturing, operational or infrastructure.' },
  CA_NOT_INITIALISED: { status: 503, meaning: 'The CA hierarchy has not been created yet.', fix: 'Run `medtrust init`.' },
  CA_KEY_LOCKED: { status: 503, meaning: 'A CA private key cannot be used: wrong master key, or the HSM token is absent or locked.', fix: 'Set MEDTRUST_MASTER_KEY (or the PKCS#11 PIN) to the value used at init.' },
  KEYSTORE_FAILURE: { status: 500, meaning: 'The key store failed to create, read or use a key.', fix: 'Check the key store directory permissions or the HSM; see the server log.' },
  KEY_NOT_FOUND: { status: 500, meaning: 'A key referenced by the database is not in the key store.', fix: 'Restore the key store that belongs to this database, or re-initialise.' },
  KEY_ALGORITHM_UNSUPPORTED: { status: 500, meaning: 'The key store (HSM) does not offer the mechanisms for this key algorithm, or holds a key of a type the platform does not use.', fix: 'Choose ec-p256, ec-p384 or rsa-2048/3072, or use an HSM that supports the algorithm (see docs/hsm.md).' },
  KEY_LABEL_TAKEN: { status: 409, meaning: 'A key with this label already exists in the key store.', fix: 'Load the existing key by its ref, or remove it from the key store before generating again.' },
  ENROLL_UNAUTHORIZED: { status: 401, meaning: 'EST enrolment needs an IDevID client certificate or a valid one-time enrolment secret (HTTP Basic).', fix: 'Present the device IDevID over TLS, or create a secret with `medtrust enroll-token create`.' },
  ENROLL_SECRET_USED: { status: 401, meaning: 'The one-time enrolment secret was already used or has expired.', fix: 'Create a new secret with `medtrust enroll-token create`.' },
  DEVICE_UNKNOWN: { status: 404, meaning: 'The device is not in the registry.', fix: 'Provision the device first (`medtrust factory provision`).' },
  DEVICE_STATE_INVALID: { status: 409, meaning: 'The device lifecycle state does not allow this operation.', fix: 'See docs/device-lifecycle.md for which step allows which transition.' },
  CONTENT_TYPE_INVALID: { status: 415, meaning: 'The Content-Type is not the one EST requires.', fix: 'Send `application/pkcs10` with a base64 body (RFC 7030 §4.2.1).' },
  OCSP_REQUEST_INVALID: { status: 400, meaning: 'The OCSP request is malformed.', fix: 'Send a DER OCSPRequest (RFC 6960 §4.1), by POST or base64url in the GET path.' },
});

export type PkiErrorCode = keyof typeof pkiErrors;
export class PkiError extends MedTrustError<PkiErrorCode> {}
