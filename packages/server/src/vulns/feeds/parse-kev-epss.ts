import { isObject } from './feed-record.ts';

export interface KevEntry {
  readonly cveId: string;
  readonly vendorProject: string;
  readonly product: string;
  readonly name: string;
  readonly dateAdded: string;
  readonly dueDate: string | null;
  readonly knownRansomware: string | null;
}

export interface EpssRow {
  readonly cveId: string;
  readonly epss: number;
  readonly percentile: number;
  readonly scoreDate: string;
}

export interface Parsed<T> {
  readonly rows: T[];
  readonly rejected: string[];
}

const CVE = /^CVE-\d{4}-\d{4,}$/;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** CISA KEV catalog JSON (known_exploited_vulnerabilities.json, schema v1). */
export function parseKev(doc: Record<string, unknown>): Parsed<KevEntry> {
  const rows: KevEntry[] = [];
  const rejected: string[] = [];
  for (const [i, v] of ((doc.vulnerabilities as unknown[]) ?? []).entries()) {
    if (!isObject(v) || typeof v.cveID !== 'string' || !CVE.test(v.cveID)) {
      rejected.push(`vulnerabilities[${i}]: cveID missing or not a CVE id`);
      continue;
    }
    if (typeof v.dateAdded !== 'string' || !DAY.test(v.dateAdded)) {
      rejected.push(`${v.cveID}: dateAdded is not YYYY-MM-DD`);
      continue;
    }
    const s = (x: unknown): string => (typeof x === 'string' ? x : '');
    rows.push({
      cveId: v.cveID, vendorProject: s(v.vendorProject), product: s(v.product), name: s(v.vulnerabilityName), dateAdded: v.dateAdded,
      dueDate: typeof v.dueDate === 'string' ? v.dueDate : null, knownRansomware: typeof v.knownRansomwareCampaignUse === 'string' ? v.knownRansomwareCampaignUse : null,
    });
  }
  return { rows, rejected };
}

/** EPSS CSV as FIRST publishes it: `#model_version:...,score_date:...` then `cve,epss,percentile`. */
export function parseEpssCsv(text: string): Parsed<EpssRow> {
  const rows: EpssRow[] = [];
  const rejected: string[] = [];
  let scoreDate = '';
  let header: string[] | undefined;
  for (const [n, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      scoreDate = /score_date:([0-9T:\-.Z]+)/.exec(line)?.[1] ?? scoreDate;
      continue;
    }
    const cells = line.split(',');
    if (!header) {
      header = cells.map((c) => c.trim().toLowerCase());
      continue;
    }
    const get = (col: string): string | undefined => cells[header?.indexOf(col) ?? -1]?.trim();
    const cve = get('cve');
    const epss = Number(get('epss'));
    const pct = Number(get('percentile'));
    const date = get('date') ?? scoreDate;
    if (!cve || !CVE.test(cve)) rejected.push(`line ${n + 1}: cve is not a CVE id`);
    else if (!(epss >= 0 && epss <= 1) || !(pct >= 0 && pct <= 1)) rejected.push(`line ${n + 1}: ${cve} epss/percentile not in [0,1]`);
    else rows.push({ cveId: cve, epss, percentile: pct, scoreDate: date });
  }
  if (!header || !header.includes('cve') || !header.includes('epss')) return { rows: [], rejected: ['EPSS CSV has no cve,epss,percentile header'] };
  return { rows, rejected };
}
