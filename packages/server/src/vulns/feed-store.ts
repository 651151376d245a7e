import type { Clock } from '@medtrust/core';
import type { Kysely } from 'kysely';
import type { Database } from '../db/index.ts';
import type { FeedBatch } from './feeds/read-feed-files.ts';
import { type Advisory, canonicalVulnId } from './match/advisory.ts';
import { advisoryKeys } from './match/firmware-matcher.ts';
import { chunks, type MatchStore } from './match-store.ts';

/** What a feed import did, with every refused record and why (nothing refused stops it). */
export interface FeedImportReport {
  readonly advisories: { readonly imported: number; readonly unchanged: number; readonly rejected: number };
  readonly kev: number;
  readonly epss: number;
  readonly rejected: ReadonlyArray<{ readonly origin: string; readonly reason: string }>;
  readonly ignoredFiles: number;
  readonly rematch: { readonly firmwares: number; readonly matches: number };
}

/** Stores a parsed feed batch, skipping advisories not modified since the stored copy. */
export async function storeFeedBatch(db: Kysely<Database>, clock: Clock, matches: MatchStore, batch: FeedBatch): Promise<FeedImportReport> {
  const rejected = [...batch.rejected];
  const latest = new Map<string, Advisory>();
  for (const r of batch.advisories) {
    if (!r.ok) {
      rejected.push({ origin: r.origin, reason: r.reason });
      continue;
    }
    const prev = latest.get(r.advisory.uid);
    if (!prev || prev.modifiedMs < r.advisory.modifiedMs) latest.set(r.advisory.uid, r.advisory);
  }
  const advisoryRejected = batch.advisories.filter((r) => !r.ok).length;
  const now = clock.nowMs();
  return db.transaction().execute(async (trx) => {
    const stored = new Map<string, number>();
    for (const part of chunks([...latest.keys()])) {
      for (const r of await trx.selectFrom('vuln_advisory').select(['id', 'modified_at']).where('id', 'in', part).execute()) stored.set(r.id, Number(r.modified_at));
    }
    const changed = new Map<string, { advisory: Advisory; keys: string[] }>();
    for (const a of latest.values()) {
      const s = stored.get(a.uid);
      // Incremental by modified date: an unchanged or older record is skipped.
      if (s !== undefined && s >= a.modifiedMs) continue;
      changed.set(a.uid, { advisory: a, keys: advisoryKeys(a) });
    }
    const ids = [...changed.keys()];
    for (const part of chunks(ids)) {
      await trx.deleteFrom('vuln_match').where('advisory_id', 'in', part).execute();
      await trx.deleteFrom('vuln_advisory_key').where('advisory_id', 'in', part).execute();
      await trx.deleteFrom('vuln_advisory').where('id', 'in', part).execute();
    }
    for (const part of chunks([...changed.values()], 100)) {
      await trx.insertInto('vuln_advisory').values(part.map(({ advisory: a }) => ({
        id: a.uid, source: a.source, vuln_id: canonicalVulnId(a), aliases: JSON.stringify(a.aliases), summary: a.summary,
        modified_at: a.modifiedMs, published_at: a.publishedMs, cvss31_vector: a.cvss31Vector, cvss40_vector: a.cvss40Vector,
        record: JSON.stringify(a), imported_at: now,
      }))).execute();
      const keyRows = part.flatMap(({ advisory, keys }) => keys.map((k) => ({ advisory_id: advisory.uid, package_key: k })));
      for (const kp of chunks(keyRows)) await trx.insertInto('vuln_advisory_key').values(kp).execute();
    }
    const kev = new Map(batch.kev.map((k) => [k.cveId, k]));
    for (const part of chunks([...kev.values()], 200)) {
      await trx.deleteFrom('vuln_kev').where('cve_id', 'in', part.map((k) => k.cveId)).execute();
      await trx.insertInto('vuln_kev').values(part.map((k) => ({ cve_id: k.cveId, vendor_project: k.vendorProject, product: k.product, name: k.name, date_added: k.dateAdded, due_date: k.dueDate, known_ransomware: k.knownRansomware }))).execute();
    }
    const epss = new Map(batch.epss.map((e) => [e.cveId, e]));
    for (const part of chunks([...epss.values()], 200)) {
      await trx.deleteFrom('vuln_epss').where('cve_id', 'in', part.map((e) => e.cveId)).execute();
      await trx.insertInto('vuln_epss').values(part.map((e) => ({ cve_id: e.cveId, epss: e.epss, percentile: e.percentile, score_date: e.scoreDate }))).execute();
    }
    const rematch = await matches.rematchAdvisories(trx, changed);
    return {
      advisories: { imported: changed.size, unchanged: latest.size - changed.size, rejected: advisoryRejected },
      kev: kev.size, epss: epss.size, rejected, ignoredFiles: batch.ignoredFiles.length, rematch,
    };
  });
}
