import { createHash } from 'node:crypto';
import { type Clock, systemClock } from '@medtrust/core';
import type { Kysely } from 'kysely';
import type { AuditLog } from '../../audit/index.ts';
import type { Database } from '../../db/index.ts';
import type { DrugEntry, DrugLibrary } from './drug-library.ts';
import { parseDrugLibrary } from './parse-drug-library.ts';

/** Versioned drug libraries per tenant: each import is a new version; the newest is active. */
export class DrugLibraryService {
  readonly #db: Kysely<Database>;
  readonly #audit: AuditLog;
  readonly #clock: Clock;

  constructor(opts: { db: Kysely<Database>; audit: AuditLog; clock?: Clock }) {
    this.#db = opts.db;
    this.#audit = opts.audit;
    this.#clock = opts.clock ?? systemClock;
  }

  /** Validates the whole file first; a bad file changes nothing and the active version stays. */
  async import(tenantId: string, text: string, format: 'json' | 'csv', actor: string): Promise<DrugLibrary> {
    let entries: DrugEntry[];
    try {
      entries = parseDrugLibrary(text, format);
    } catch (e) {
      await this.#audit.append({ actor, action: 'drug-library.import.refused', tenantId, outcome: 'failure', details: { format } });
      throw e;
    }
    const sha = createHash('sha256').update(text).digest('hex');
    const version = await this.#db.transaction().execute(async (trx) => {
      const last = await trx.selectFrom('drug_library').select((eb) => eb.fn.max('version').as('v')).where('tenant_id', '=', tenantId).executeTakeFirst();
      const v = Number(last?.v ?? 0) + 1;
      await trx.insertInto('drug_library').values({ tenant_id: tenantId, version: v, entries: JSON.stringify(entries), imported_at: this.#clock.nowMs(), imported_by: actor, source_sha256: sha }).execute();
      return v;
    });
    await this.#audit.append({ actor, action: 'drug-library.imported', target: `drug-library:${tenantId}:${version}`, tenantId, details: { version, entries: entries.length, sha256: sha } });
    return { version, entries };
  }

  /** The active (newest) library of a tenant, or undefined when none was imported. */
  async active(tenantId: string): Promise<DrugLibrary | undefined> {
    const row = await this.#db.selectFrom('drug_library').select(['version', 'entries']).where('tenant_id', '=', tenantId).orderBy('version', 'desc').limit(1).executeTakeFirst();
    return row ? { version: row.version, entries: JSON.parse(row.entries) as DrugEntry[] } : undefined;
  }
}
