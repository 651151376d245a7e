import { defineErrors, MedTrustError } from '@medtrust/core';

export const policyErrors = defineErrors({
  POLICY_INVALID: { status: 400, meaning: 'The policy document does not parse (JSON/YAML syntax) or breaks the policy schema: unknown fact, wrong operator, missing trigger or action. `details.problems` lists each problem; nothing was stored.', fix: 'Fix every listed problem (docs/policy.md lists facts and operators) and apply again; `medtrust policy dry-run FILE` checks without storing.' },
  POLICY_NOT_FOUND: { status: 404, meaning: 'No policy with that id or name in your tenant.', fix: 'List policies (`medtrust policy list` or GET /api/v1/policies) and use an existing id.' },
  POLICY_DENIED: { status: 403, meaning: 'An enabled policy refused the operation (a device connection, a certificate issuance or a command); `details` names the policy, version and rule.', fix: 'Bring the device into line with the policy (update firmware, use a stronger key) or change the policy.' },
  POLICY_QUERY_INVALID: { status: 400, meaning: 'The policy decision query is malformed (limit out of range or unknown filter).', fix: 'Use limit 1-500 and the documented filters (device, policy).' },
});

export type PolicyErrorCode = keyof typeof policyErrors;
/** Errors of the policy engine; codes in `policyErrors`. */
export class PolicyError extends MedTrustError<PolicyErrorCode> {}
