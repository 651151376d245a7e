import type { PackageURL } from 'packageurl-js';
import { type Advisory, type AdvisoryTarget, canonicalVulnId } from './advisory.ts';
import { type CpeName, cpeKey, isConcrete, parseCpe23 } from './cpe-name.ts';
import { type CpeSubject, evaluateNvdForComponent } from './evaluate-nvd.ts';
import { evaluateOsvTarget, type Verdict } from './evaluate-osv.ts';
import { componentKeys, osvPackageKey, parsePurl } from './package-key.ts';

/** A component prepared for matching: parsed identifiers and lookup keys. */
export interface MatchableComponent {
  readonly id: string;
  readonly name: string;
  readonly version: string | null;
  readonly purl: PackageURL | undefined;
  readonly cpe: CpeName | undefined;
  readonly keys: readonly string[];
}

export interface ComponentMatch {
  readonly componentId: string;
  readonly advisoryId: string;
  readonly vulnId: string;
  readonly status: 'affected' | 'unknown';
  readonly reason: string;
  readonly fixedVersion: string | null;
}

/** Parses a stored component (purl/CPE strings) into what the matcher needs. */
export function toMatchable(c: { id: string; name: string; version: string | null; purl: string | null; cpe: string | null }): MatchableComponent {
  const purl = c.purl ? parsePurl(c.purl) : undefined;
  const cpe = c.cpe ? parseCpe23(c.cpe) : undefined;
  return { id: c.id, name: c.name, version: c.version, purl, cpe, keys: componentKeys({ name: c.name, purl, cpe }) };
}

/** Every key an advisory is indexed under (a new advisory re-matches only these components). */
export function advisoryKeys(a: Advisory): string[] {
  const keys = new Set<string>();
  for (const t of a.targets) {
    switch (t.kind) {
      case 'osv-package':
        keys.add(t.key);
        break;
      case 'nvd-configurations':
        for (const cfg of t.configurations) for (const n of cfg.nodes) for (const m of n.cpeMatch) {
          const c = m.vulnerable ? parseCpe23(m.criteria) : undefined;
          if (c) keys.add(cpeKey(c));
        }
        break;
      default:
        t satisfies never;
    }
  }
  return [...keys];
}

/** Advisories by package key: the index that keeps matching proportional to what can match. */
export class AdvisoryIndex {
  readonly #byKey = new Map<string, Advisory[]>();
  readonly #byId = new Map<string, Advisory>();

  add(a: Advisory): void {
    if (this.#byId.has(a.uid)) this.remove(a.uid);
    this.#byId.set(a.uid, a);
    for (const k of advisoryKeys(a)) {
      const list = this.#byKey.get(k);
      if (list) list.push(a);
      else this.#byKey.set(k, [a]);
    }
  }

  remove(uid: string): void {
    const a = this.#byId.get(uid);
    if (!a) return;
    this.#byId.delete(uid);
    for (const k of advisoryKeys(a)) {
      const list = this.#byKey.get(k);
      if (list) this.#byKey.set(k, list.filter((x) => x.uid !== uid));
    }
  }

  lookup(key: string): readonly Advisory[] {
    return this.#byKey.get(key) ?? [];
  }

  get size(): number {
    return this.#byId.size;
  }
}

function subjectOf(c: MatchableComponent): CpeSubject | undefined {
  if (!c.cpe) return undefined;
  return { cpe: c.cpe, version: isConcrete(c.cpe.version) ? c.cpe.version : c.version };
}

/** The version to compare with OSV ranges: the purl's, else the component's, else the CPE's. */
function osvVersion(c: MatchableComponent): string | null {
  if (c.purl?.version) return c.purl.version;
  if (c.version) return c.version;
  return c.cpe && isConcrete(c.cpe.version) ? c.cpe.version : null;
}

function evaluateTarget(t: AdvisoryTarget, c: MatchableComponent, firmware: readonly CpeSubject[]): Verdict {
  switch (t.kind) {
    case 'osv-package': {
      if (!c.keys.includes(t.key)) return { status: 'no', reason: 'other package', fixed: null };
      return evaluateOsvTarget(t, osvVersion(c));
    }
    case 'nvd-configurations': {
      const s = subjectOf(c);
      if (!s) return { status: 'no', reason: 'component has no CPE', fixed: null };
      return evaluateNvdForComponent(t.configurations, s, firmware);
    }
    default:
      return t satisfies never;
  }
}

/**
 * Matches one firmware's components against the advisories indexed under their keys. The whole
 * firmware is passed because NVD AND configurations need the platform (hardware) components.
 * `only` restricts to some advisories (incremental re-match after a feed update).
 */
export function matchFirmware(components: readonly MatchableComponent[], lookup: (key: string) => readonly Advisory[], only?: ReadonlySet<string>): ComponentMatch[] {
  const firmware = components.map(subjectOf).filter((s): s is CpeSubject => s !== undefined);
  const out: ComponentMatch[] = [];
  for (const c of components) {
    const seen = new Set<string>();
    for (const key of c.keys) {
      for (const a of lookup(key)) {
        if (seen.has(a.uid) || (only && !only.has(a.uid))) continue;
        seen.add(a.uid);
        let best: Verdict | undefined;
        for (const t of a.targets) {
          const v = evaluateTarget(t, c, firmware);
          if (v.status === 'yes') {
            best = v;
            break;
          }
          if (v.status === 'unknown' && !best) best = v;
        }
        if (best) out.push({ componentId: c.id, advisoryId: a.uid, vulnId: canonicalVulnId(a), status: best.status === 'yes' ? 'affected' : 'unknown', reason: best.reason, fixedVersion: best.fixed });
      }
    }
  }
  return out;
}

export { osvPackageKey };
