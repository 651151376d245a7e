import { compareGeneric } from '../version/index.ts';
import type { NvdConfiguration, NvdCpeMatch, NvdNode } from './advisory.ts';
import { type CpeName, isConcrete, parseCpe23 } from './cpe-name.ts';
import { type Tri, triAnd, triNot, triOr } from './tristate.ts';

/** A component as the CPE evaluator sees it: its CPE and the version to compare. */
export interface CpeSubject {
  readonly cpe: CpeName;
  /** The CPE's version when concrete, else the component version, else null. */
  readonly version: string | null;
}

const ATTRS = ['part', 'vendor', 'product', 'update', 'edition', 'language', 'swEdition', 'targetSw', 'targetHw', 'other'] as const;

/**
 * CPE Name Matching (NISTIR 7696) reduced to what NVD criteria use: `*` (ANY) in the criteria
 * matches anything; a concrete criteria value must equal the subject's; a subject `*` facing a
 * concrete criteria value is undecidable. Versions use the range bounds of the cpeMatch.
 */
export function matchCpe(m: NvdCpeMatch, s: CpeSubject): Tri {
  const c = parseCpe23(m.criteria);
  if (!c) return 'no';
  let result: Tri = 'yes';
  for (const a of ATTRS) {
    const want = c[a];
    const have = s.cpe[a];
    if (want === '*' || want === have) continue;
    if (a === 'vendor' || a === 'product') return 'no';
    // SBOMs often give firmware libraries part "o" where NVD says "a" (FreeRTOS): same vendor
    // and product with another part is reported for review, never dropped silently.
    if (a === 'part') {
      result = 'unknown';
      continue;
    }
    if (have === '*') result = 'unknown';
    else return 'no';
  }
  const v = versionVerdict(c, m, s.version);
  return v === 'no' ? 'no' : v === 'unknown' || result === 'unknown' ? 'unknown' : 'yes';
}

function versionVerdict(c: CpeName, m: NvdCpeMatch, version: string | null): Tri {
  const bounded = m.versionStartIncluding ?? m.versionStartExcluding ?? m.versionEndIncluding ?? m.versionEndExcluding;
  if (isConcrete(c.version)) {
    if (version === null) return 'unknown';
    return compareGeneric(version, c.version) === 0 ? 'yes' : 'no';
  }
  if (c.version === '-' && bounded === undefined) return 'yes';
  if (bounded === undefined) return 'yes';
  if (version === null) return 'unknown';
  if (m.versionStartIncluding !== undefined && compareGeneric(version, m.versionStartIncluding) < 0) return 'no';
  if (m.versionStartExcluding !== undefined && compareGeneric(version, m.versionStartExcluding) <= 0) return 'no';
  if (m.versionEndIncluding !== undefined && compareGeneric(version, m.versionEndIncluding) > 0) return 'no';
  if (m.versionEndExcluding !== undefined && compareGeneric(version, m.versionEndExcluding) >= 0) return 'no';
  return 'yes';
}

/** A cpeMatch against a whole firmware: does any component satisfy it? */
function matchAny(m: NvdCpeMatch, subjects: readonly CpeSubject[]): Tri {
  return triOr(subjects.map((s) => matchCpe(m, s)));
}

function evalNode(n: NvdNode, subjects: readonly CpeSubject[]): Tri {
  const parts = n.cpeMatch.map((m) => matchAny(m, subjects));
  const r = n.operator === 'AND' ? triAnd(parts) : triOr(parts);
  return n.negate ? triNot(r) : r;
}

/** Whether a configuration (AND/OR of nodes, e.g. firmware running on hardware) holds for a firmware. */
export function evaluateConfiguration(cfg: NvdConfiguration, subjects: readonly CpeSubject[]): Tri {
  const parts = cfg.nodes.map((n) => evalNode(n, subjects));
  const r = cfg.operator === 'AND' ? triAnd(parts) : triOr(parts);
  return cfg.negate ? triNot(r) : r;
}

/**
 * Whether `focus` (one component of the firmware) is affected: some configuration holds for the
 * firmware and one of its `vulnerable: true` cpeMatches matches the focus component.
 */
export function evaluateNvdForComponent(configs: readonly NvdConfiguration[], focus: CpeSubject, firmware: readonly CpeSubject[]): { status: Tri; reason: string; fixed: string | null } {
  let best: { status: Tri; reason: string; fixed: string | null } = { status: 'no', reason: 'no configuration matches', fixed: null };
  for (const cfg of configs) {
    for (const node of cfg.nodes) {
      for (const m of node.cpeMatch) {
        if (!m.vulnerable) continue;
        const own = matchCpe(m, focus);
        if (own === 'no') continue;
        const whole = evaluateConfiguration(cfg, firmware);
        const status = triAnd([own, whole]);
        if (status === 'no') continue;
        const reason = `${m.criteria}${bounds(m)}${cfg.nodes.length > 1 ? ` (${cfg.operator ?? 'OR'} configuration of ${cfg.nodes.length} nodes)` : ''}${status === 'unknown' ? ': version or platform not decidable from the SBOM' : ''}`;
        const candidate = { status, reason, fixed: m.versionEndExcluding ?? null };
        if (status === 'yes') return candidate;
        best = candidate;
      }
    }
  }
  return best;
}

function bounds(m: NvdCpeMatch): string {
  const b = [
    m.versionStartIncluding && `>=${m.versionStartIncluding}`, m.versionStartExcluding && `>${m.versionStartExcluding}`,
    m.versionEndIncluding && `<=${m.versionEndIncluding}`, m.versionEndExcluding && `<${m.versionEndExcluding}`,
  ].filter(Boolean);
  return b.length ? ` ${b.join(' ')}` : '';
}
