import type { Role } from './roles.ts';

/** Who is calling, as established by authentication. */
export type Principal =
  | { readonly kind: 'token'; readonly tokenId: string; readonly tenantId: string; readonly tenantKind: 'operator' | 'customer' | 'site'; readonly role: Role }
  | { readonly kind: 'system'; readonly tenantId: string; readonly role: 'operator-admin' };

/** The audit actor string for a principal. */
export function actorOf(p: Principal): string {
  switch (p.kind) {
    case 'token':
      return `token:${p.tokenId}`;
    case 'system':
      return 'system';
    default:
      return p satisfies never;
  }
}
