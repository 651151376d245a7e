import type { Role } from './roles.ts';

export type TenantKind = 'operator' | 'customer' | 'site';

/** Who is calling, as established by authentication. */
export type Principal =
  | { readonly kind: 'token'; readonly tokenId: string; readonly tenantId: string; readonly tenantKind: TenantKind; readonly role: Role }
  /** A person logged in with a session cookie (dashboard). */
  | { readonly kind: 'user'; readonly userId: string; readonly sessionId: string; readonly tenantId: string; readonly tenantKind: TenantKind; readonly role: Role }
  | { readonly kind: 'system'; readonly tenantId: string; readonly role: 'operator-admin' };

/** The audit actor string for a principal. */
export function actorOf(p: Principal): string {
  switch (p.kind) {
    case 'token':
      return `token:${p.tokenId}`;
    case 'user':
      return `user:${p.userId}`;
    case 'system':
      return 'system';
    default:
      return p satisfies never;
  }
}

/** The principal's tenant and its kind; `system` acts for the operator. */
export function tenantOf(p: Principal): { readonly tenantId: string; readonly tenantKind: TenantKind } {
  switch (p.kind) {
    case 'token':
    case 'user':
      return { tenantId: p.tenantId, tenantKind: p.tenantKind };
    case 'system':
      return { tenantId: p.tenantId, tenantKind: 'operator' };
    default:
      return p satisfies never;
  }
}

/**
 * The tenant a principal's reads are limited to, or null for the operator (who sees every
 * tenant's non-PHI records). Tenant isolation: a customer or site never sees another tenant's rows.
 */
export function tenantScopeOf(p: Principal): string | null {
  const t = tenantOf(p);
  return t.tenantKind === 'operator' ? null : t.tenantId;
}
