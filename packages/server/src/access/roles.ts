/** Roles of people and services (docs/access.md holds the matrix as a table). */
export const ROLES = ['operator-admin', 'security-analyst', 'release-manager', 'hospital-admin', 'biomed', 'clinician', 'auditor', 'device'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(s: string): s is Role {
  return (ROLES as readonly string[]).includes(s);
}

/**
 * Every permission the platform checks, and the roles that hold it. The one place where access
 * is decided for REST, FHIR, live streams and the CLI.
 */
export const PERMISSIONS = {
  'token:create': ['operator-admin', 'hospital-admin'],
  'tenant:manage': ['operator-admin'],
  'user:manage': ['operator-admin', 'hospital-admin'],
  // Hospital single sign-on (OIDC identity providers) for the admin's own tenant (docs/access.md).
  'sso:manage': ['operator-admin', 'hospital-admin'],
  'device:read': ['operator-admin', 'security-analyst', 'release-manager', 'hospital-admin', 'biomed', 'clinician', 'auditor'],
  'device:provision': ['operator-admin'],
  'device:manage': ['operator-admin', 'hospital-admin', 'biomed'],
  'certificate:read': ['operator-admin', 'security-analyst', 'hospital-admin', 'biomed', 'auditor'],
  'certificate:revoke': ['operator-admin', 'security-analyst', 'hospital-admin', 'biomed'],
  'enroll-token:create': ['operator-admin', 'hospital-admin', 'biomed'],
  'audit:read': ['operator-admin', 'security-analyst', 'auditor'],
  // Vitals are PHI: routes further limit the operator to non-PHI device metrics (telemetry/device-access.ts).
  'telemetry:read': ['operator-admin', 'security-analyst', 'hospital-admin', 'biomed', 'clinician'],
  'vuln:read': ['operator-admin', 'security-analyst', 'release-manager', 'hospital-admin', 'biomed', 'auditor'],
  'vuln:manage': ['operator-admin', 'security-analyst'],
  'sbom:manage': ['operator-admin', 'security-analyst', 'release-manager'],
  'release:manage': ['operator-admin', 'release-manager'],
  'release:read': ['operator-admin', 'release-manager', 'security-analyst', 'auditor'],
  'alert:read': ['operator-admin', 'hospital-admin', 'biomed', 'clinician'],
  'alert:acknowledge': ['hospital-admin', 'biomed', 'clinician'],
  'alert-rule:manage': ['hospital-admin', 'clinician'],
  'webhook:manage': ['operator-admin', 'hospital-admin'],
  'drug-library:read': ['hospital-admin', 'biomed', 'clinician'],
  'drug-library:manage': ['hospital-admin'],
  'command:read': ['hospital-admin', 'biomed', 'clinician', 'auditor'],
  'command:request': ['clinician'],
  'command:approve': ['clinician'],
  // Hospital admins write policies for their own devices only (policy/, docs/policy.md).
  'policy:manage': ['operator-admin', 'security-analyst', 'hospital-admin'],
  'policy:read': ['operator-admin', 'security-analyst', 'hospital-admin', 'biomed', 'auditor'],
  // PHI: only the clinicians of the patient's hospital (operator roles never).
  'patient:read': ['clinician'],
  'patient:manage': ['clinician', 'hospital-admin'],
  // Outbound FHIR push sends PHI to the hospital's own EHR: its admin sets where (fhir/, docs/fhir.md).
  'fhir-push:manage': ['hospital-admin'],
  'device:assign': ['operator-admin'],
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof PERMISSIONS;

export function roleHas(role: Role, permission: Permission): boolean {
  return (PERMISSIONS[permission] as readonly Role[]).includes(role);
}
