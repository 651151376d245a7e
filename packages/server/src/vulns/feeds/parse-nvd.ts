import type { Advisory, NvdConfiguration, NvdCpeMatch, NvdNode } from '../match/advisory.ts';
import { type FeedRecordResult, isObject, parseTimeMs, reject } from './feed-record.ts';

const optStr = (x: unknown): string | undefined => (typeof x === 'string' ? x : undefined);

function parseNode(n: unknown): NvdNode | undefined {
  if (!isObject(n) || !Array.isArray(n.cpeMatch)) return undefined;
  const cpeMatch: NvdCpeMatch[] = [];
  for (const m of n.cpeMatch) {
    if (!isObject(m) || typeof m.criteria !== 'string' || typeof m.vulnerable !== 'boolean') return undefined;
    cpeMatch.push({
      vulnerable: m.vulnerable, criteria: m.criteria,
      ...(optStr(m.versionStartIncluding) ? { versionStartIncluding: m.versionStartIncluding as string } : {}),
      ...(optStr(m.versionStartExcluding) ? { versionStartExcluding: m.versionStartExcluding as string } : {}),
      ...(optStr(m.versionEndIncluding) ? { versionEndIncluding: m.versionEndIncluding as string } : {}),
      ...(optStr(m.versionEndExcluding) ? { versionEndExcluding: m.versionEndExcluding as string } : {}),
    });
  }
  return { operator: n.operator === 'AND' ? 'AND' : 'OR', negate: n.negate === true, cpeMatch };
}

function vectorOf(metrics: Record<string, unknown>, key: string): string | null {
  const list = metrics[key];
  if (!Array.isArray(list)) return null;
  // Prefer NVD's own (Primary) assessment over a CNA's.
  const sorted = (list as unknown[]).filter(isObject).sort((a, b) => (a.type === 'Primary' ? -1 : 0) - (b.type === 'Primary' ? -1 : 0));
  for (const m of sorted) if (isObject(m.cvssData) && typeof m.cvssData.vectorString === 'string') return m.cvssData.vectorString;
  return null;
}

/**
 * Normalises one NVD CVE API 2.0 item (`{ cve: {...} }`). A record without `configurations`
 * (e.g. CVE-2025-0725, not yet analysed) is kept: it has no CPE keys, so it matches nothing by
 * itself, but its scores and aliases still serve the OSV records of the same CVE.
 */
export function parseNvdItem(item: unknown): FeedRecordResult {
  const cve = isObject(item) && isObject(item.cve) ? item.cve : undefined;
  if (!cve || typeof cve.id !== 'string' || !/^CVE-\d{4}-\d+$/.test(cve.id)) return reject('NVD item has no cve.id');
  const modifiedMs = parseTimeMs(cve.lastModified);
  if (modifiedMs === undefined) return reject(`${cve.id}: lastModified is missing or not a time`);
  const configurations: NvdConfiguration[] = [];
  if (cve.configurations !== undefined) {
    if (!Array.isArray(cve.configurations)) return reject(`${cve.id}: configurations must be an array`);
    for (const [i, c] of cve.configurations.entries()) {
      if (!isObject(c) || !Array.isArray(c.nodes)) return reject(`${cve.id}: configurations[${i}] has no nodes`);
      const nodes = c.nodes.map(parseNode);
      if (nodes.some((n) => n === undefined)) return reject(`${cve.id}: configurations[${i}] has a malformed node`);
      configurations.push({ operator: c.operator === 'AND' ? 'AND' : 'OR', negate: c.negate === true, nodes: nodes as NvdNode[] });
    }
  }
  const metrics = isObject(cve.metrics) ? cve.metrics : {};
  const descriptions = Array.isArray(cve.descriptions) ? cve.descriptions.filter(isObject) : [];
  const en = descriptions.find((d) => d.lang === 'en');
  const advisory: Advisory = {
    uid: `nvd:${cve.id}`, id: cve.id, source: 'nvd', aliases: [],
    summary: typeof en?.value === 'string' ? en.value.slice(0, 500) : '',
    modifiedMs, publishedMs: parseTimeMs(cve.published) ?? null,
    cvss31Vector: vectorOf(metrics, 'cvssMetricV31') ?? vectorOf(metrics, 'cvssMetricV30'), cvss40Vector: vectorOf(metrics, 'cvssMetricV40'),
    targets: configurations.length > 0 ? [{ kind: 'nvd-configurations', configurations }] : [],
  };
  return { ok: true, advisory };
}
