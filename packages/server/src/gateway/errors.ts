import { defineErrors, MedTrustError } from '@medtrust/core';

/** Device-facing gateway refusals (MQTT and HTTPS); certificate problems use the PKI codes. */
export const gatewayErrors = defineErrors({
  CLIENT_CERT_REQUIRED: { status: 401, meaning: 'The device connected without a client certificate, or with one that is not an LDevID of the Operational CA.', fix: 'Connect with the LDevID from EST enrolment (mutual TLS).' },
  DEVICE_QUARANTINED: { status: 403, meaning: 'The device is quarantined; it may not connect or send data.', fix: 'A biomed or security user must release the quarantine (docs/device-lifecycle.md).' },
  DEVICE_DECOMMISSIONED: { status: 403, meaning: 'The device is decommissioned.', fix: 'Decommissioned devices cannot return; provision a new device.' },
  DEVICE_NOT_ENROLLED: { status: 403, meaning: 'The device has not completed EST enrolment (no LDevID in force).', fix: 'Enrol the device over EST first.' },
  TOPIC_FORBIDDEN: { status: 403, meaning: 'A device published or subscribed outside its own topics (devices/{its id}/...).', fix: 'Publish under devices/{id}/telemetry; subscribe only to devices/{id}/commands/#, devices/{id}/updates/# and devices/{id}/errors.' },
});

export type GatewayErrorCode = keyof typeof gatewayErrors;
export class GatewayError extends MedTrustError<GatewayErrorCode> {}
