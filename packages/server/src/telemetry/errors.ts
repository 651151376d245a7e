import { defineErrors, MedTrustError } from '@medtrust/core';

/** Codes for refused device messages; the gateway publishes them on `devices/{id}/errors`. */
export const telemetryErrors = defineErrors({
  MESSAGE_MALFORMED: { status: 400, meaning: 'The device message is not a JSON object.', fix: 'Send UTF-8 JSON as described in docs/device-protocol.md.' },
  MESSAGE_TOO_LARGE: { status: 413, meaning: 'The device message is larger than 16 KiB.', fix: 'Send one reading per message; batch over time, not in one payload.' },
  MESSAGE_VERSION_UNSUPPORTED: { status: 400, meaning: 'The message `v` field names a protocol version the platform does not speak.', fix: 'Send `"v": 1` (docs/device-protocol.md).' },
  MESSAGE_INVALID: { status: 400, meaning: 'The device message does not match the protocol schema (missing field, wrong type, wrong unit, unknown field).', fix: 'Correct the field named in `details.path`; see docs/device-protocol.md.' },
  VALUE_OUT_OF_RANGE: { status: 422, meaning: 'A value in the device message is physiologically or physically impossible.', fix: 'Check the sensor; the accepted ranges are in docs/device-protocol.md.' },
  TIMESTAMP_IN_FUTURE: { status: 422, meaning: 'The message timestamp is further in the future than the allowed clock skew.', fix: 'Synchronise the device clock (NTP) and send again.' },
  TIMESTAMP_TOO_OLD: { status: 422, meaning: 'The message timestamp is older than the backfill window.', fix: 'Drop readings older than the window (docs/device-protocol.md); the platform no longer accepts them.' },
  TELEMETRY_RANGE_INVALID: { status: 400, meaning: 'The telemetry query range or bucket is invalid (from after to, too many buckets, unknown metric).', fix: 'Use from <= to, a bucketMs giving at most 10,000 buckets, and a metric listed in docs/device-protocol.md.' },
  INGEST_UNAVAILABLE: { status: 503, meaning: 'The telemetry store could not commit the message; it was not acknowledged.', fix: 'Send it again later (the device keeps it in its queue); check the database.' },
});

export type TelemetryErrorCode = keyof typeof telemetryErrors;
export class TelemetryError extends MedTrustError<TelemetryErrorCode> {}
