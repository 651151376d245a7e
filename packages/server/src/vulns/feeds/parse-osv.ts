import type { Advisory, AdvisoryTarget, OsvEvent, OsvRange } from '../match/advisory.ts';
import { osvPackageKey } from '../match/package-key.ts';
import { type FeedRecordResult, isObject, parseTimeMs, reject } from './feed-record.ts';

const RANGE_TYPES = new Set(['SEMVER', 'ECOSYSTEM', 'GIT']);
const EVENT_KEYS = ['introduced', 'fixed', 'last_affected', 'limit'] as const;

function parseRange(r: unknown, where: string): OsvRange | string {
  if (!isObject(r) || typeof r.type !== 'string' || !RANGE_TYPES.has(r.type)) return `${where}.type must be SEMVER, ECOSYSTEM or GIT`;
  if (!Array.isArray(r.events) || r.events.length === 0) return `${where}.events must be a non-empty array`;
  const events: OsvEvent[] = [];
  for (const [i, e] of r.events.entries()) {
    const k = isObject(e) ? EVENT_KEYS.find((key) => typeof e[key] === 'string') : undefined;
    if (!k || !isObject(e)) return `${where}.events[${i}] needs one of introduced, fixed, last_affected, limit`;
    events.push({ [k]: e[k] as string } as OsvEvent);
  }
  return { type: r.type as OsvRange['type'], ...(typeof r.repo === 'string' ? { repo: r.repo } : {}), events };
}

/** Repository-only entries (no package) are keyed by the repository name. */
function gitPackage(ranges: readonly OsvRange[]): { ecosystem: string; name: string } | undefined {
  const repo = ranges.find((r) => r.repo)?.repo;
  const name = repo?.replace(/\.git$/, '').split('/').filter(Boolean).pop();
  return name ? { ecosystem: 'GIT', name } : undefined;
}

/** Validates and normalises one OSV record (OSV schema 1.x); a reason string when refused. */
export function parseOsvRecord(doc: unknown): FeedRecordResult {
  if (!isObject(doc)) return reject('OSV record is not an object');
  if (typeof doc.id !== 'string' || doc.id === '') return reject('OSV record has no id');
  const modifiedMs = parseTimeMs(doc.modified);
  if (modifiedMs === undefined) return reject(`${doc.id}: modified is missing or not an RFC 3339 time`);
  if (doc.affected !== undefined && !Array.isArray(doc.affected)) return reject(`${doc.id}: affected must be an array`);
  const targets: AdvisoryTarget[] = [];
  for (const [i, a] of ((doc.affected as unknown[] | undefined) ?? []).entries()) {
    if (!isObject(a)) return reject(`${doc.id}: affected[${i}] is not an object`);
    const ranges: OsvRange[] = [];
    for (const [j, r] of ((Array.isArray(a.ranges) ? a.ranges : []) as unknown[]).entries()) {
      const parsed = parseRange(r, `affected[${i}].ranges[${j}]`);
      if (typeof parsed === 'string') return reject(`${doc.id}: ${parsed}`);
      ranges.push(parsed);
    }
    const versions = Array.isArray(a.versions) ? a.versions.filter((v): v is string => typeof v === 'string') : [];
    const pkg = isObject(a.package) && typeof a.package.name === 'string' && typeof a.package.ecosystem === 'string'
      ? { ecosystem: a.package.ecosystem, name: a.package.name, purl: typeof a.package.purl === 'string' ? a.package.purl : undefined }
      : gitPackage(ranges);
    if (!pkg) return reject(`${doc.id}: affected[${i}] has neither a package nor a GIT repository`);
    targets.push({ kind: 'osv-package', key: osvPackageKey(pkg), ecosystem: pkg.ecosystem, name: pkg.name, ranges, versions });
  }
  const severity = Array.isArray(doc.severity) ? doc.severity.filter(isObject) : [];
  const vector = (type: string): string | null => {
    const s = severity.find((x) => x.type === type);
    return s && typeof s.score === 'string' ? s.score : null;
  };
  const advisory: Advisory = {
    uid: `osv:${doc.id}`, id: doc.id, source: 'osv',
    aliases: Array.isArray(doc.aliases) ? doc.aliases.filter((x): x is string => typeof x === 'string') : [],
    summary: typeof doc.summary === 'string' ? doc.summary : typeof doc.details === 'string' ? doc.details.slice(0, 500) : '',
    modifiedMs, publishedMs: parseTimeMs(doc.published) ?? null,
    cvss31Vector: vector('CVSS_V3'), cvss40Vector: vector('CVSS_V4'), targets,
  };
  return { ok: true, advisory };
}
