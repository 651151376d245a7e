import { defineErrors, MedTrustError } from './medtrust-error.ts';

/** Codes that belong to no single domain: requests, authentication, configuration. */
export const coreErrors = defineErrors({
  REQUEST_INVALID: { status: 400, meaning: 'The request body, query or parameters do not match the documented schema.', fix: 'Correct the fields named in `details` and send again; see /docs for the schema.' },
  PAYLOAD_TOO_LARGE: { status: 413, meaning: 'The request body is larger than the endpoint accepts.', fix: 'Send a smaller body; limits are listed in docs/api.md.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, meaning: 'The Content-Type is not one this endpoint accepts.', fix: 'Send the content type the endpoint documents.' },
  UNAUTHENTICATED: { status: 401, meaning: 'No valid credential was presented.', fix: 'Send `Authorization: Bearer <token>` with an unexpired, unrevoked API token.' },
  FORBIDDEN: { status: 403, meaning: 'The credential is valid but its role or tenant does not allow this action.', fix: 'Use a token whose role holds the permission (docs/access.md).' },
  NOT_FOUND: { status: 404, meaning: 'No such resource, or it belongs to another tenant.', fix: 'Check the id; list resources to find it.' },
  CONFLICT: { status: 409, meaning: 'The request conflicts with the current state of the resource.', fix: 'Read the resource again and retry with its current state.' },
  RATE_LIMITED: { status: 429, meaning: 'Too many requests from this client.', fix: 'Wait for the time given in `Retry-After` and retry.' },
  CONFIG_INVALID: { status: 500, meaning: 'A MEDTRUST_* setting or the config file is invalid.', fix: 'Fix the setting named in the message and start again.' },
  INTERNAL: { status: 500, meaning: 'An unexpected error; it is logged with a request id.', fix: 'Report the request id to the operator.' },
});

export type CoreErrorCode = keyof typeof coreErrors;

export class CoreError extends MedTrustError<CoreErrorCode> {}
