/** An OSV range event, as in the OSV schema (`events[]`). */
export type OsvEvent =
  | { readonly introduced: string }
  | { readonly fixed: string }
  | { readonly last_affected: string }
  | { readonly limit: string };

export interface OsvRange {
  readonly type: 'SEMVER' | 'ECOSYSTEM' | 'GIT';
  readonly repo?: string;
  readonly events: readonly OsvEvent[];
}

/** What one advisory says is affected, in a form the matcher evaluates. */
export type AdvisoryTarget =
  | { readonly kind: 'osv-package'; readonly key: string; readonly ecosystem: string; readonly name: string; readonly ranges: readonly OsvRange[]; readonly versions: readonly string[] }
  | { readonly kind: 'nvd-configurations'; readonly configurations: readonly NvdConfiguration[] };

export interface NvdCpeMatch {
  readonly vulnerable: boolean;
  readonly criteria: string;
  readonly versionStartIncluding?: string;
  readonly versionStartExcluding?: string;
  readonly versionEndIncluding?: string;
  readonly versionEndExcluding?: string;
}

export interface NvdNode {
  readonly operator: 'AND' | 'OR';
  readonly negate?: boolean;
  readonly cpeMatch: readonly NvdCpeMatch[];
}

export interface NvdConfiguration {
  readonly operator?: 'AND' | 'OR';
  readonly negate?: boolean;
  readonly nodes: readonly NvdNode[];
}

/** A normalised advisory (OSV record or NVD CVE), the unit feeds store and the matcher reads. */
export interface Advisory {
  /** Storage identity `source:id`: OSV and NVD both publish records named CVE-... */
  readonly uid: string;
  readonly id: string;
  readonly source: 'osv' | 'nvd';
  readonly aliases: readonly string[];
  readonly summary: string;
  readonly modifiedMs: number;
  readonly publishedMs: number | null;
  readonly cvss31Vector: string | null;
  readonly cvss40Vector: string | null;
  readonly targets: readonly AdvisoryTarget[];
}

/** The canonical vulnerability id: the lowest CVE among the id and aliases, else the id. */
export function canonicalVulnId(a: Pick<Advisory, 'id' | 'aliases'>): string {
  const cves = [a.id, ...a.aliases].filter((x) => /^CVE-\d{4}-\d+$/.test(x)).sort();
  return cves[0] ?? a.id;
}
