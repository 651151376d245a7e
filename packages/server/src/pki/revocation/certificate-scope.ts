import type { ExpressionBuilder, SelectQueryBuilder } from 'kysely';
import type { Database } from '../../db/index.ts';

/**
 * Which certificates a caller may see: the operator sees all; a customer or site principal only
 * those of its tenant (certificate.tenant_id) or of devices at its site. Others look absent (404).
 */
export type CertificateScope =
  | { readonly kind: 'all' }
  | { readonly kind: 'tenant'; readonly tenantId: string };

type CertQuery<O> = SelectQueryBuilder<Database, 'certificate', O>;

/** Restricts a query on `certificate` to the scope. */
export function applyScope<O>(q: CertQuery<O>, scope: CertificateScope): CertQuery<O> {
  switch (scope.kind) {
    case 'all':
      return q;
    case 'tenant':
      return q.where((eb: ExpressionBuilder<Database, 'certificate'>) => eb.or([
        eb('certificate.tenant_id', '=', scope.tenantId),
        eb('certificate.device_id', 'in', eb.selectFrom('device').select('device.id').where('device.site_id', '=', scope.tenantId)),
      ]));
    default:
      return scope satisfies never;
  }
}
