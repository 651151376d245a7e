import type { Role } from './api.ts';

export interface NavItem { readonly path: string; readonly label: string }

const ALERTS: NavItem = { path: '/alerts', label: 'Alerts' };
const PATIENTS: NavItem = { path: '/patients', label: 'Patients' };
const FLEET: NavItem = { path: '/fleet', label: 'Fleet' };
const CERTS: NavItem = { path: '/certificates', label: 'Certificates' };
const RELEASES: NavItem = { path: '/releases', label: 'Releases' };
const VULNS: NavItem = { path: '/vulnerabilities', label: 'Vulnerabilities' };
const POLICIES: NavItem = { path: '/policies', label: 'Policies' };
const AUDIT: NavItem = { path: '/audit', label: 'Audit' };

/** What each role sees in the navigation (the API enforces access regardless: docs/access.md). */
export function navFor(role: Role): readonly NavItem[] {
  switch (role) {
    // Only clinicians hold patient:read: PHI never reaches operator roles' screens.
    case 'clinician': return [ALERTS, PATIENTS];
    case 'biomed': return [FLEET, CERTS, ALERTS, VULNS, POLICIES];
    case 'hospital-admin': return [FLEET, CERTS, ALERTS, VULNS, POLICIES];
    case 'operator-admin': return [FLEET, CERTS, RELEASES, VULNS, POLICIES, AUDIT];
    case 'security-analyst': return [FLEET, CERTS, VULNS, POLICIES, AUDIT];
    case 'release-manager': return [FLEET, RELEASES, VULNS];
    case 'auditor': return [AUDIT, FLEET, CERTS, POLICIES];
    case 'device': return [];
    default: return role satisfies never;
  }
}

// Mirrors packages/server/src/access/roles.ts so a view hides sections the API would refuse.
const CAN = {
  'certificate:read': ['operator-admin', 'security-analyst', 'hospital-admin', 'biomed', 'auditor'],
  'certificate:revoke': ['operator-admin', 'security-analyst', 'hospital-admin', 'biomed'],
  'enroll-token:create': ['operator-admin', 'hospital-admin', 'biomed'],
  'vuln:read': ['operator-admin', 'security-analyst', 'release-manager', 'hospital-admin', 'biomed', 'auditor'],
  'vuln:manage': ['operator-admin', 'security-analyst'],
  'telemetry:read': ['operator-admin', 'security-analyst', 'hospital-admin', 'biomed', 'clinician'],
  'alert:read': ['operator-admin', 'hospital-admin', 'biomed', 'clinician'],
  'alert:acknowledge': ['hospital-admin', 'biomed', 'clinician'],
  'audit:read': ['operator-admin', 'security-analyst', 'auditor'],
  'release:read': ['operator-admin', 'release-manager', 'security-analyst', 'auditor'],
  'release:manage': ['operator-admin', 'release-manager'],
  'policy:read': ['operator-admin', 'security-analyst', 'hospital-admin', 'biomed', 'auditor'],
  'patient:read': ['clinician'],
} as const satisfies Record<string, readonly Role[]>;

/** Whether the role holds the permission (the API decides; this only shapes the view). */
export function can(role: Role, permission: keyof typeof CAN): boolean {
  return (CAN[permission] as readonly Role[]).includes(role);
}
