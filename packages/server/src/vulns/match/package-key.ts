import { PackageURL } from 'packageurl-js';
import { type CpeName, cpeKey } from './cpe-name.ts';

/**
 * Package keys are how advisories are indexed and components looked up:
 * `purl:type/namespace/name` (lower-cased), `cpe:vendor:product`, and `name:<name>` for
 * components without an ecosystem (pkg:generic, pkg:github) and OSS-Fuzz projects.
 */
export function purlKey(p: PackageURL): string {
  return `purl:${p.type.toLowerCase()}/${(p.namespace ?? '').toLowerCase()}/${p.name.toLowerCase()}`;
}

/** Parses and canonicalises a purl with packageurl-js; undefined when it is not a purl. */
export function parsePurl(s: string): PackageURL | undefined {
  try {
    return PackageURL.fromString(s.trim());
  } catch {
    return undefined;
  }
}

const NAME_KEYED_TYPES = new Set(['generic', 'github', 'gitlab', 'bitbucket']);

/** Every key a component is looked up by. */
export function componentKeys(c: { readonly name: string; readonly purl: PackageURL | undefined; readonly cpe: CpeName | undefined }): string[] {
  const keys = new Set<string>();
  if (c.purl) {
    keys.add(purlKey(c.purl));
    if (NAME_KEYED_TYPES.has(c.purl.type)) keys.add(`name:${c.purl.name.toLowerCase()}`);
  }
  if (c.cpe) keys.add(cpeKey(c.cpe));
  return [...keys];
}

// OSV ecosystem -> purl type/namespace (OSV schema appendix, purl-spec types).
const ECOSYSTEM_PURL: Readonly<Record<string, readonly [string, string]>> = {
  Alpine: ['apk', 'alpine'], Debian: ['deb', 'debian'], Ubuntu: ['deb', 'ubuntu'], npm: ['npm', ''], PyPI: ['pypi', ''],
  Go: ['golang', ''], 'crates.io': ['cargo', ''], NuGet: ['nuget', ''], RubyGems: ['gem', ''], Packagist: ['composer', ''],
  Hex: ['hex', ''], Pub: ['pub', ''], Maven: ['maven', ''],
};

/** The key of an OSV `affected[].package`: its purl when given, else from the ecosystem. */
export function osvPackageKey(pkg: { readonly ecosystem: string; readonly name: string; readonly purl?: string | undefined }): string {
  const fromPurl = pkg.purl ? parsePurl(pkg.purl) : undefined;
  if (fromPurl) return purlKey(fromPurl);
  const base = pkg.ecosystem.split(':')[0] ?? '';
  const mapped = ECOSYSTEM_PURL[base];
  if (!mapped) return `name:${pkg.name.toLowerCase()}`;
  const [type, ns] = mapped;
  if (type === 'maven' || type === 'golang' || type === 'composer') {
    const cut = pkg.name.lastIndexOf(type === 'maven' ? ':' : '/');
    if (cut > 0) return `purl:${type}/${pkg.name.slice(0, cut).toLowerCase()}/${pkg.name.slice(cut + 1).toLowerCase()}`;
  }
  return `purl:${type}/${ns}/${pkg.name.toLowerCase()}`;
}
