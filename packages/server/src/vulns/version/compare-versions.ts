import semver from 'semver';

/** Orders two version strings: negative, zero or positive like `Array.sort` comparators. */
export type VersionComparator = (a: string, b: string) => number;

const PRE_RELEASE_WORDS = new Set(['alpha', 'beta', 'rc', 'pre', 'preview', 'dev', 'snapshot', 'm']);

function tokens(v: string): Array<number | string> {
  const out: Array<number | string> = [];
  for (const m of v.toLowerCase().matchAll(/(\d+)|([a-z]+)/g)) out.push(m[1] !== undefined ? Number(m[1]) : (m[2] as string));
  return out;
}

/**
 * Generic ordering for NVD/CPE and unknown ecosystems: numeric runs compare as numbers, letter
 * runs as text, so OpenSSL letter releases order right (1.0.1 < 1.0.1f < 1.0.1g < 1.0.2), and a
 * trailing pre-release word (alpha, beta, rc...) sorts before the release it precedes.
 * Written by hand: no npm library orders these mixed schemes (semver rejects "1.0.1g").
 */
export function compareGeneric(a: string, b: string): number {
  const ta = tokens(a);
  const tb = tokens(b);
  const n = Math.max(ta.length, tb.length);
  for (let i = 0; i < n; i++) {
    const x = ta[i];
    const y = tb[i];
    if (x === undefined) return typeof y === 'string' && PRE_RELEASE_WORDS.has(y) ? 1 : -1;
    if (y === undefined) return typeof x === 'string' && PRE_RELEASE_WORDS.has(x) ? -1 : 1;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    if (typeof x === 'string' && typeof y === 'string') {
      const px = PRE_RELEASE_WORDS.has(x);
      const py = PRE_RELEASE_WORDS.has(y);
      if (px !== py) return px ? -1 : 1;
      return x < y ? -1 : 1;
    }
    // A pre-release word sorts before a number at the same place; any other word after it.
    const word = (typeof x === 'string' ? x : y) as string;
    const wordFirst = PRE_RELEASE_WORDS.has(word) ? -1 : 1;
    return typeof x === 'string' ? wordFirst : -wordFirst;
  }
  return 0;
}

const PLAIN = /^(\d{1,9})\.(\d{1,9})\.(\d{1,9})$/;

/** SemVer 2.0 (OSV `SEMVER` ranges); versions that are not SemVer fall back to the generic order. */
export function compareSemver(a: string, b: string): number {
  // Hot path (fleet re-match): plain MAJOR.MINOR.PATCH needs no semver parse.
  const pa = PLAIN.exec(a);
  const pb = pa ? PLAIN.exec(b) : null;
  if (pa && pb) return Number(pa[1]) - Number(pb[1]) || Number(pa[2]) - Number(pb[2]) || Number(pa[3]) - Number(pb[3]);
  const va = semver.valid(a, { loose: true });
  const vb = semver.valid(b, { loose: true });
  if (va && vb) return semver.compare(va, vb, { loose: true });
  return compareGeneric(a, b);
}
