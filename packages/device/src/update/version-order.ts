import semver from 'semver';

export type VersionScheme = 'semver' | 'counter';

const COUNTER_RE = /^(0|[1-9][0-9]{0,14})$/;

/** The same rule the platform applies to release versions (strict semver or a decimal counter). */
export function schemeOf(version: string): VersionScheme | undefined {
  if (COUNTER_RE.test(version)) return 'counter';
  if (semver.valid(version, { loose: false }) === version) return 'semver';
  return undefined;
}

/** Negative, zero or positive; undefined when the two cannot be ordered (different schemes). */
export function compareVersion(a: string, b: string): number | undefined {
  const sa = schemeOf(a);
  const sb = schemeOf(b);
  if (!sa || sa !== sb) return undefined;
  return sa === 'counter' ? Math.sign(Number(a) - Number(b)) : semver.compare(a, b);
}
