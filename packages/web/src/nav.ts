import type { Role } from './api.ts';

export interface NavItem { readonly path: string; readonly label: string }

const ALERTS: NavItem = { path: '/alerts', label: 'Alerts' };
const VITALS: NavItem = { path: '/vitals', label: 'Patients’ vitals' };
const FLEET: NavItem = { path: '/fleet', label: 'Fleet' };
const CERTS: NavItem = { path: '/certificates', label: 'Certificates' };
const RELEASES: NavItem = { path: '/releases', label: 'Releases' };
const VULNS: NavItem = { path: '/vulnerabilities', label: 'Vulnerabilities' };
const AUDIT: NavItem = { path: '/audit', label: 'Audit' };

/** What each role sees in the navigation (the API enforces access regardless: docs/access.md). */
export function navFor(role: Role): readonly NavItem[] {
  switch (role) {
    case 'clinician': return [ALERTS, VITALS];
    case 'biomed': return [FLEET, CERTS, ALERTS];
    case 'hospital-admin': return [FLEET, CERTS, ALERTS];
    case 'operator-admin': return [FLEET, RELEASES, VULNS, AUDIT];
    case 'security-analyst': return [FLEET, VULNS, AUDIT];
    case 'release-manager': return [FLEET, RELEASES, VULNS];
    case 'auditor': return [AUDIT, FLEET];
    case 'device': return [];
    default: return role satisfies never;
  }
}

// Mirrors packages/server/src/access/roles.ts so a view hides sections the API would refuse.
const CAN = {
  'certificate:read': ['operator-admin', 'security-analyst', 'hospital-admin', 'biomed', 'auditor'],
  'certificate:revoke': ['operator-admin', 'security-analyst', 'hospital-admin', 'biomed'],
  'vuln:read': ['operator-admin', 'security-analyst', 'release-manager', 'hospital-admin', 'biomed', 'auditor'],
  'telemetry:read': ['operator-admin', 'security-analyst', 'hospital-admin', 'biomed', 'clinician'],
  'alert:read': ['operator-admin', 'hospital-admin', 'biomed', 'clinician'],
  'alert:acknowledge': ['hospital-admin', 'biomed', 'clinician'],
} as const satisfies Record<string, readonly Role[]>;

/** Whether the role holds the permission (the API decides; this only shapes the view). */
export function can(role: Role, permission: keyof typeof CAN): boolean {
  return (CAN[permission] as readonly Role[]).includes(role);
}
