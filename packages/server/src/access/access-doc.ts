import { PERMISSIONS, ROLES } from './roles.ts';
import { TENANT_ROLES } from './tenant-roles.ts';

export const MATRIX_BEGIN = '<!-- permission-matrix:begin (generated from access/roles.ts; do not edit) -->';
export const MATRIX_END = '<!-- permission-matrix:end -->';

/** The permission matrix as a Markdown table: one row per permission, one column per role. */
export function renderPermissionMatrix(): string {
  const header = `| permission | ${ROLES.join(' | ')} |`;
  const rule = `|---|${ROLES.map(() => ':-:').join('|')}|`;
  const rows = Object.entries(PERMISSIONS)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([perm, roles]) => `| \`${perm}\` | ${ROLES.map((r) => ((roles as readonly string[]).includes(r) ? '✓' : '')).join(' | ')} |`);
  const tenantRows = (['operator', 'customer', 'site'] as const).map((k) => `| ${k} | ${TENANT_ROLES[k].join(', ')} |`);
  return [MATRIX_BEGIN, header, rule, ...rows, '', 'Roles each tenant kind may hold (users and tokens):', '', '| tenant kind | roles |', '|---|---|', ...tenantRows, MATRIX_END].join('\n');
}

/** `doc` with its generated section replaced by the current matrix. */
export function withPermissionMatrix(doc: string): string {
  const start = doc.indexOf(MATRIX_BEGIN);
  const end = doc.indexOf(MATRIX_END);
  if (start < 0 || end < start) throw new Error('docs/access.md lacks the permission-matrix markers');
  return doc.slice(0, start) + renderPermissionMatrix() + doc.slice(end + MATRIX_END.length);
}
