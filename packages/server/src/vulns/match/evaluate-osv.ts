import { comparatorFor, type VersionComparator, compareSemver } from '../version/index.ts';
import type { AdvisoryTarget, OsvEvent, OsvRange } from './advisory.ts';
import type { Tri } from './tristate.ts';

export interface Verdict {
  readonly status: Tri;
  readonly reason: string;
  readonly fixed: string | null;
}

const eventVersion = (e: OsvEvent): string => ('introduced' in e ? e.introduced : 'fixed' in e ? e.fixed : 'last_affected' in e ? e.last_affected : e.limit);

/**
 * OSV schema "Evaluation" algorithm for one SEMVER/ECOSYSTEM range: walk the events sorted by
 * version; `introduced` switches affected on, `fixed` (v >= fixed) and `last_affected`
 * (v > last_affected) switch it off; `limit` bounds the range from above.
 */
export function inRange(version: string, range: OsvRange, cmp: VersionComparator): boolean {
  const limits = range.events.filter((e) => 'limit' in e).map(eventVersion);
  if (limits.some((l) => l !== '*' && cmp(version, l) >= 0)) return false;
  const sorted = range.events.filter((e) => !('limit' in e)).slice().sort((a, b) => {
    const va = eventVersion(a);
    const vb = eventVersion(b);
    // "introduced: 0" is the lowest possible version.
    if (va === '0' && 'introduced' in a) return -1;
    if (vb === '0' && 'introduced' in b) return 1;
    return cmp(va, vb);
  });
  let affected = false;
  for (const e of sorted) {
    if ('introduced' in e) {
      if (e.introduced === '0' || cmp(version, e.introduced) >= 0) affected = true;
    } else if ('fixed' in e) {
      if (cmp(version, e.fixed) >= 0) affected = false;
    } else if ('last_affected' in e) {
      if (cmp(version, e.last_affected) > 0) affected = false;
    }
  }
  return affected;
}

function fixedOf(range: OsvRange): string | null {
  for (const e of range.events) if ('fixed' in e) return e.fixed;
  return null;
}

/** Evaluates one OSV `affected[]` entry for a component version. GIT ranges give `unknown`. */
export function evaluateOsvTarget(target: Extract<AdvisoryTarget, { kind: 'osv-package' }>, version: string | null): Verdict {
  if (version === null || version === '') return { status: 'unknown', reason: 'component has no version', fixed: null };
  // OSV schema: the `versions` list is authoritative where given.
  if (target.versions.includes(version)) return { status: 'yes', reason: `${version} is listed in affected versions (${target.ecosystem})`, fixed: null };
  const ordering = comparatorFor(target.ecosystem);
  let sawGit = false;
  for (const r of target.ranges) {
    switch (r.type) {
      case 'GIT':
        sawGit = true;
        break;
      case 'SEMVER':
        if (inRange(version, r, compareSemver)) return { status: 'yes', reason: `${version} in SEMVER range ${describe(r)}`, fixed: fixedOf(r) };
        break;
      case 'ECOSYSTEM':
        if (inRange(version, r, ordering.compare)) return { status: 'yes', reason: `${version} in ${target.ecosystem} range ${describe(r)}`, fixed: fixedOf(r) };
        break;
      default:
        r.type satisfies never;
    }
  }
  if (sawGit) return { status: 'unknown', reason: `GIT range on ${target.ranges.find((r) => r.type === 'GIT')?.repo ?? 'a repository'} cannot be evaluated without the repository`, fixed: null };
  return { status: 'no', reason: `${version} outside the ranges`, fixed: null };
}

function describe(r: OsvRange): string {
  return r.events.map((e) => `${Object.keys(e)[0]}=${eventVersion(e)}`).join(',');
}
