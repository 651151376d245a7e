import { defineErrors, MedTrustError } from '@medtrust/core';

/** Releases, artifact store and TUF repository error codes. */
export const updateErrors = defineErrors({
  RELEASE_NOT_FOUND: { status: 404, meaning: 'No release with that id.', fix: 'List releases with `GET /api/v1/releases` or `medtrust release list`.' },
  RELEASE_STATE_INVALID: { status: 409, meaning: 'The release lifecycle does not allow this transition (draft -> approved -> published -> withdrawn).', fix: 'Read the release state and take the next allowed step; see docs/updates.md.' },
  RELEASE_VERSION_INVALID: { status: 400, meaning: 'The version is neither a strict semantic version nor a non-negative integer counter, or its scheme differs from the model\'s earlier releases.', fix: 'Use `MAJOR.MINOR.PATCH[-pre]` (no build metadata) or a decimal counter, the same scheme as earlier releases of the model.' },
  RELEASE_VERSION_EXISTS: { status: 409, meaning: 'A release with this version already exists for one of its models.', fix: 'Choose a new, higher version.' },
  RELEASE_MODEL_UNKNOWN: { status: 400, meaning: 'No device of this model is in the registry (and no earlier release names it), or the model name is not allowed.', fix: 'Provision a device of the model first; model names are 1-64 of A-Z a-z 0-9 . _ - and not a TUF role name.' },
  RELEASE_FIELD_INVALID: { status: 400, meaning: 'A release field (file name, hardware revision, notes, device id) is missing or malformed.', fix: 'See docs/updates.md for the allowed values; `details.field` names the field.' },
  ARTIFACT_TOO_LARGE: { status: 413, meaning: 'The firmware artifact or SBOM is larger than the configured limit.', fix: 'Upload a smaller file; the limit is in docs/updates.md.' },
  ARTIFACT_EMPTY: { status: 400, meaning: 'The uploaded artifact is empty.', fix: 'Send the file as the raw request body (Content-Type: application/octet-stream).' },
  ARTIFACT_MISSING: { status: 500, meaning: 'A stored artifact referenced by a release is absent from the artifact store.', fix: 'Restore the artifact store (`<dataDir>/artifacts`, or the S3 bucket and prefix) that belongs to this database.' },
  ARTIFACT_STORE_UNAVAILABLE: { status: 503, meaning: 'The S3-compatible artifact store refused or did not answer (wrong credentials, missing bucket, unreachable endpoint, server error); `details.reason` says which.', fix: 'Follow the message: check MEDTRUST_S3_ENDPOINT, MEDTRUST_S3_BUCKET, MEDTRUST_S3_REGION and the credentials; see docs/updates.md.' },
  TUF_NOT_INITIALISED: { status: 503, meaning: 'The TUF repository has no root yet.', fix: 'Run `medtrust init` (or start the platform once) to create the TUF root.' },
  TUF_METADATA_NOT_FOUND: { status: 404, meaning: 'No TUF metadata or target file by that name.', fix: 'Request files listed by the current snapshot and targets metadata.' },
  TUF_TARGET_WITHDRAWN: { status: 410, meaning: 'The target file belongs to a withdrawn release: it is no longer listed in the TUF metadata and is not served, even to a client holding older metadata.', fix: 'Refresh the TUF metadata (the device\'s update client does so on its next check) and install what the current metadata lists.' },
  TUF_CONFLICT: { status: 503, meaning: 'Another node changed the TUF repository at the same moment and retries ran out.', fix: 'Retry the request.' },
  CAMPAIGN_NOT_FOUND: { status: 404, meaning: 'No campaign with that id.', fix: 'List campaigns to find the id.' },
  CAMPAIGN_INVALID: { status: 400, meaning: 'The campaign definition is invalid (phases, thresholds, window, selection) or its release is not published.', fix: 'Phases are increasing percentages ending at 100; thresholds are between 0 and 1; window hours 0-23; see docs/updates.md.' },
  CAMPAIGN_STATE_INVALID: { status: 409, meaning: 'The campaign state does not allow this action.', fix: 'Only a paused campaign can be resumed; a completed or cancelled one is final.' },
  DEVICE_TAG_INVALID: { status: 400, meaning: 'A device tag is malformed or there are too many.', fix: 'Up to 20 tags, each 1-64 of A-Z a-z 0-9 . _ : - starting with a letter or digit.' },
  UPDATE_STATUS_INVALID: { status: 400, meaning: 'A device\'s update status message (MQTT `devices/{id}/update-status` or HTTPS `POST /device/v1/update-status`) is not valid JSON of the documented shape, or names a campaign the device is not in.', fix: 'Send `{"v":1,"kind":"check"}` or `{"v":1,"campaignId":...,"kind":...}` as in docs/updates.md; use the campaign id from the desired state.' },
  TUF_ROOT_KEYS_UNAVAILABLE: { status: 503, meaning: 'The TUF root keys are not available to this process: they live in the separate root key store, or its passphrase is missing or too short.', fix: 'Run the ceremony with `medtrust tuf rotate-root --root-key-dir DIR` and MEDTRUST_TUF_ROOT_PASSPHRASE (16+ characters) set; see docs/updates.md.' },
  TUF_ROOT_INVALID: { status: 400, meaning: 'A root rotation was asked with an invalid threshold or key count.', fix: 'Use a threshold of at least 2 and at least as many keys.' },
});

export type UpdateErrorCode = keyof typeof updateErrors;
export class UpdateError extends MedTrustError<UpdateErrorCode> {}
