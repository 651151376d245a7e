import type { Principal } from '../access/index.ts';

/** Which devices a caller may see: all (operator) or one hospital's or site's. */
export type VulnScope = { readonly kind: 'all' } | { readonly kind: 'tenant'; readonly tenantId: string } | { readonly kind: 'site'; readonly siteId: string };

/** Medplum-style tenant isolation: hospital principals see only their own devices. */
export function scopeOf(p: Principal): VulnScope {
  if (p.kind === 'system') return { kind: 'all' };
  switch (p.tenantKind) {
    case 'operator':
      return { kind: 'all' };
    case 'customer':
      return { kind: 'tenant', tenantId: p.tenantId };
    case 'site':
      return { kind: 'site', siteId: p.tenantId };
    default:
      return p.tenantKind satisfies never;
  }
}
