import { defineErrors, MedTrustError } from '@medtrust/core';

/** Clinical safety codes: drug library, command limits, approvals. */
export const clinicalErrors = defineErrors({
  DRUG_LIBRARY_INVALID: { status: 400, meaning: 'The drug library file has rows or fields that do not validate; `details.problems` lists them by row.', fix: 'Correct the rows named and import again; the previous library version stays in force.' },
  DRUG_NOT_IN_LIBRARY: { status: 422, meaning: 'The drug (or concentration) is not in the active library for the care area.', fix: 'Choose a drug from the care area\'s library, or have pharmacy add it.' },
  COMMAND_UNKNOWN: { status: 400, meaning: 'The device class does not declare this command, or a parameter is missing or not a number.', fix: 'Use a command and parameters the device class declares (GET its command specs).' },
  LIMIT_HARD_EXCEEDED: { status: 422, meaning: 'A value is beyond a hard limit of the drug library or device class; it cannot be overridden.', fix: 'Program a value inside the hard limits.' },
  OVERRIDE_REASON_REQUIRED: { status: 409, meaning: 'A value is beyond a soft limit and needs an override reason.', fix: 'Confirm the value with `override.reason`, or program a value inside the soft limits.' },
  SECOND_APPROVAL_REQUIRED: { status: 409, meaning: 'A high-alert drug beyond a soft limit needs a second clinician\'s approval.', fix: 'Have a second clinician (not the requester) approve the command.' },
  RATE_JUMP_CONFIRMATION_REQUIRED: { status: 409, meaning: 'The new rate is about 10x or 100x the running rate (a stuck key or misplaced decimal?).', fix: 'Check the value; if intended, resend with `confirmRateJump: true`.' },
  ALERT_RULE_INVALID: { status: 400, meaning: 'The alert rule does not validate; `details.problems` says which fields.', fix: 'Correct the fields named and send again.' },
  ALERT_RULE_NOT_FOUND: { status: 404, meaning: 'No alert rule with that id in your tenant.', fix: 'List the rules to find the id.' },
  ALERT_NOT_FOUND: { status: 404, meaning: 'No alert with that id in your tenant.', fix: 'List the alerts to find the id.' },
  ALERT_STATE_INVALID: { status: 409, meaning: 'The alert is already in that state or resolved.', fix: 'Read the alert again; only raised alerts can be acknowledged.' },
  WEBHOOK_URL_INVALID: { status: 400, meaning: 'The webhook URL is not an http(s) URL.', fix: 'Give an https URL (http is allowed for localhost only).' },
  WEBHOOK_NOT_FOUND: { status: 404, meaning: 'No webhook or delivery with that id in your tenant.', fix: 'List webhooks and dead-lettered deliveries to find the id.' },
  COMMAND_NOT_FOUND: { status: 404, meaning: 'No command with that id in your tenant.', fix: 'List the device\'s commands to find the id.' },
  COMMAND_STATE_INVALID: { status: 409, meaning: 'The command is not waiting for approval (already issued, refused or expired), or the approver is the requester.', fix: 'A second clinician, not the requester, approves a pending command before it expires.' },
  DEVICE_NOT_COMMANDABLE: { status: 409, meaning: 'The device is quarantined, decommissioned or not enrolled: commands to it are blocked.', fix: 'Resolve the quarantine (biomed) or use another device.' },
  NO_DRUG_LIBRARY: { status: 409, meaning: 'The tenant has no drug library; infusion commands cannot be checked.', fix: 'Import a drug library (POST /api/v1/drug-library) first.' },
});

export type ClinicalErrorCode = keyof typeof clinicalErrors;
export class ClinicalError extends MedTrustError<ClinicalErrorCode> {}
