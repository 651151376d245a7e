import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../db/index.ts';
import type { AuditEntryTable } from './tables.ts';

export type AuditEntryRow = Selectable<AuditEntryTable>;

/**
 * Streams audit entries in seq order, one keyset page at a time, so that verifying or exporting
 * a log of millions of entries holds one page in memory.
 */
export async function* entryPages(db: Kysely<Database>, opts: { afterSeq?: number; toSeq?: number; pageSize?: number } = {}): AsyncGenerator<AuditEntryRow> {
  const pageSize = opts.pageSize ?? 2000;
  let after = opts.afterSeq ?? 0;
  for (;;) {
    let q = db.selectFrom('audit_entry').selectAll().where('seq', '>', after).orderBy('seq').limit(pageSize);
    if (opts.toSeq !== undefined) q = q.where('seq', '<=', opts.toSeq);
    const page = await q.execute();
    for (const row of page) yield row;
    if (page.length < pageSize) return;
    after = (page[page.length - 1] as AuditEntryRow).seq;
  }
}
