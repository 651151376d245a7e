import type { ReleaseTable } from './tables.ts';
import type { VersionScheme } from './version.ts';

export type ReleaseState = ReleaseTable['state'];

/** A release as the API and CLI show it. */
export interface Release {
  readonly id: string;
  readonly version: string;
  readonly versionScheme: VersionScheme;
  readonly models: readonly string[];
  readonly hardwareRevisions: readonly string[];
  readonly fileName: string;
  readonly length: number;
  readonly sha256: string;
  readonly sha512: string;
  readonly notes: string;
  readonly sbom: { readonly sha256: string; readonly fileName: string } | null;
  readonly state: ReleaseState;
  /** TUF target paths (`<model>/<version>/<file name>`), one per model. */
  readonly targets: readonly string[];
  readonly downgradeAuthorisedDeviceIds: readonly string[];
  readonly createdAt: number;
  readonly createdBy: string;
  readonly approvedAt: number | null;
  readonly publishedAt: number | null;
  readonly withdrawnAt: number | null;
}

export type ReleaseAction = 'approve' | 'publish' | 'withdraw';

/** The one transition table: which state each action needs and where it leads. */
export function nextState(action: ReleaseAction, from: ReleaseState): ReleaseState | undefined {
  switch (action) {
    case 'approve':
      return from === 'draft' ? 'approved' : undefined;
    case 'publish':
      return from === 'approved' ? 'published' : undefined;
    case 'withdraw':
      // A draft or approved release can be abandoned; withdrawn is final.
      return from === 'withdrawn' ? undefined : 'withdrawn';
    default:
      return action satisfies never;
  }
}

/** Names the TUF repository accepts as model (delegated role) names. */
export const MODEL_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const RESERVED_ROLES = new Set(['root', 'targets', 'snapshot', 'timestamp']);

export function isModelName(m: string): boolean {
  return MODEL_RE.test(m) && !RESERVED_ROLES.has(m) && !m.endsWith('.json');
}

/** A file name that is one path segment and safe in URLs and file systems. */
export const FILE_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;
export const HW_REV_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/;
export const DEVICE_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export function toRelease(r: ReleaseTable, models: readonly string[]): Release {
  const sorted = [...models].sort();
  return {
    id: r.id, version: r.version, versionScheme: r.version_scheme, models: sorted,
    hardwareRevisions: JSON.parse(r.hardware_revisions) as string[],
    fileName: r.file_name, length: Number(r.artifact_length), sha256: r.artifact_sha256, sha512: r.artifact_sha512,
    notes: r.notes, sbom: r.sbom_sha256 && r.sbom_file_name ? { sha256: r.sbom_sha256, fileName: r.sbom_file_name } : null,
    state: r.state, targets: sorted.map((m) => `${m}/${r.version}/${r.file_name}`),
    downgradeAuthorisedDeviceIds: JSON.parse(r.downgrade_device_ids) as string[],
    createdAt: Number(r.created_at), createdBy: r.created_by,
    approvedAt: r.approved_at === null ? null : Number(r.approved_at),
    publishedAt: r.published_at === null ? null : Number(r.published_at),
    withdrawnAt: r.withdrawn_at === null ? null : Number(r.withdrawn_at),
  };
}
