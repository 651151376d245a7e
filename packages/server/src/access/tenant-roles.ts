import type { TenantKind } from './principal.ts';
import { type Role, ROLES } from './roles.ts';

/**
 * Which roles a user or token of each tenant kind may hold. Least privilege: operator roles
 * (operator-admin, security-analyst, release-manager) never belong to a hospital. The operator
 * may hold any role: a hospital role there is the explicit grant ("operator sees PHI only when
 * granted"). `device` is a service identity allowed everywhere.
 */
export const TENANT_ROLES: Readonly<Record<TenantKind, readonly Role[]>> = Object.freeze({
  operator: ROLES,
  customer: ['hospital-admin', 'biomed', 'clinician', 'auditor', 'device'],
  site: ['hospital-admin', 'biomed', 'clinician', 'auditor', 'device'],
});

export function roleAllowedIn(kind: TenantKind, role: Role): boolean {
  return TENANT_ROLES[kind].includes(role);
}
