import semver from 'semver';

export type VersionScheme = 'semver' | 'counter';

// A counter is a decimal integer without leading zeros, small enough to compare as a number.
const COUNTER_RE = /^(0|[1-9][0-9]{0,14})$/;

/** The scheme of a version string, or undefined when it is neither strict semver nor a counter. */
export function versionScheme(version: string): VersionScheme | undefined {
  if (COUNTER_RE.test(version)) return 'counter';
  // Strict parsing: no leading "v", no loose forms, so every node and device agrees on order.
  if (version.length <= 128 && semver.valid(version, { loose: false }) === version) return 'semver';
  return undefined;
}

/** Negative, zero or positive as a is lower, equal or higher than b (same scheme required). */
export function compareVersions(a: string, b: string, scheme: VersionScheme): number {
  switch (scheme) {
    case 'counter':
      return Math.sign(Number(a) - Number(b));
    case 'semver':
      return semver.compare(a, b);
    default:
      return scheme satisfies never;
  }
}
