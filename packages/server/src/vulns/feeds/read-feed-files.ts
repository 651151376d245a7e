import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { unzipSync } from 'fflate';
import { VulnError } from '../errors.ts';
import { type FeedRecordResult, isObject } from './feed-record.ts';
import { type EpssRow, type KevEntry, parseEpssCsv, parseKev } from './parse-kev-epss.ts';
import { parseNvdItem } from './parse-nvd.ts';
import { parseOsvRecord } from './parse-osv.ts';

/** What one feed file held: advisories, KEV entries, EPSS rows, and what was refused and why. */
export interface FeedBatch {
  readonly advisories: Array<FeedRecordResult & { origin: string }>;
  readonly kev: KevEntry[];
  readonly epss: EpssRow[];
  readonly rejected: Array<{ origin: string; reason: string }>;
  readonly ignoredFiles: string[];
}

export function emptyBatch(): FeedBatch {
  return { advisories: [], kev: [], epss: [], rejected: [], ignoredFiles: [] };
}

/** Classifies one feed document by content, not by name: OSV, NVD 2.0 (item or response), KEV, EPSS. */
export function addFeedContent(batch: FeedBatch, origin: string, bytes: Uint8Array): void {
  const name = origin.toLowerCase();
  if (name.endsWith('.zip')) {
    let files: Record<string, Uint8Array>;
    try {
      files = unzipSync(bytes);
    } catch (e) {
      batch.rejected.push({ origin, reason: `zip cannot be read: ${e instanceof Error ? e.message : String(e)}` });
      return;
    }
    for (const [entry, data] of Object.entries(files).sort(([a], [b]) => a.localeCompare(b))) {
      if (entry.endsWith('/')) continue;
      if (entry.toLowerCase().endsWith('.json')) addFeedContent(batch, `${origin}!${entry}`, data);
      else batch.ignoredFiles.push(`${origin}!${entry}`);
    }
    return;
  }
  const text = Buffer.from(bytes).toString('utf8');
  if (name.endsWith('.csv')) {
    const first = text.split('\n', 2).join('\n').toLowerCase();
    if (!first.includes('epss')) {
      batch.rejected.push({ origin, reason: 'CSV is not an EPSS score file (KEV: import the JSON catalog)' });
      return;
    }
    const p = parseEpssCsv(text);
    batch.epss.push(...p.rows);
    for (const r of p.rejected) batch.rejected.push({ origin, reason: r });
    return;
  }
  if (!name.endsWith('.json')) {
    batch.ignoredFiles.push(origin);
    return;
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    batch.rejected.push({ origin, reason: `not JSON: ${e instanceof Error ? e.message : String(e)}` });
    return;
  }
  const records: unknown[] = Array.isArray(doc) ? doc : [doc];
  for (const [i, r] of records.entries()) {
    const at = records.length > 1 ? `${origin}[${i}]` : origin;
    if (isObject(r) && Array.isArray(r.vulnerabilities) && typeof r.catalogVersion === 'string') {
      const p = parseKev(r);
      batch.kev.push(...p.rows);
      for (const reason of p.rejected) batch.rejected.push({ origin: at, reason });
    } else if (isObject(r) && Array.isArray(r.vulnerabilities)) {
      for (const [j, item] of r.vulnerabilities.entries()) batch.advisories.push({ ...parseNvdItem(item), origin: `${at}#${j}` });
    } else if (isObject(r) && isObject(r.cve)) {
      batch.advisories.push({ ...parseNvdItem(r), origin: at });
    } else if (isObject(r) && typeof r.id === 'string') {
      batch.advisories.push({ ...parseOsvRecord(r), origin: at });
    } else {
      batch.rejected.push({ origin: at, reason: 'not an OSV record, NVD CVE API 2.0 item or response, or KEV catalog' });
    }
  }
}

/** Reads files, directories (recursively) and zip dumps into one batch. */
export function readFeedPaths(paths: readonly string[]): FeedBatch {
  const batch = emptyBatch();
  const visit = (p: string): void => {
    let st;
    try {
      st = statSync(p);
    } catch (e) {
      throw new VulnError('FEED_UNREADABLE', `cannot read ${basename(p)}`, { cause: e, details: { path: p } });
    }
    if (st.isDirectory()) {
      for (const entry of readdirSync(p).sort()) visit(join(p, entry));
      return;
    }
    addFeedContent(batch, p, readFileSync(p));
  };
  for (const p of paths) visit(p);
  return batch;
}
