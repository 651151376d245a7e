/** A firmware release; its artifact lives in the artifact store, addressed by sha256. */
export interface ReleaseTable {
  id: string;
  tenant_id: string;
  version: string;
  version_scheme: 'semver' | 'counter';
  file_name: string;
  artifact_sha256: string;
  artifact_sha512: string;
  artifact_length: number;
  /** JSON array of hardware revisions it fits; empty means every revision of its models. */
  hardware_revisions: string;
  notes: string;
  sbom_sha256: string | null;
  sbom_file_name: string | null;
  state: 'draft' | 'approved' | 'published' | 'withdrawn';
  /** JSON array of device ids allowed to install this release even when it is a downgrade. */
  downgrade_device_ids: string;
  created_at: number;
  created_by: string;
  approved_at: number | null;
  approved_by: string | null;
  published_at: number | null;
  published_by: string | null;
  withdrawn_at: number | null;
  withdrawn_by: string | null;
}

/** Which models a release fits; (model, version) is unique. */
export interface ReleaseModelTable {
  release_id: string;
  model: string;
  version: string;
}

/** A signed TUF metadata document; the newest version of a role is the current one. */
export interface TufMetadataTable {
  role: string;
  version: number;
  /** The exact bytes served (canonical JSON of the whole document). */
  body: string;
  expires_at: number;
  created_at: number;
}

/** Public half of a TUF key; the private half stays in the key store under `ref`. */
export interface TufKeyTable {
  key_id: string;
  /** `root`, `targets`, `snapshot`, `timestamp`, or `delegation:<model>`. */
  role: string;
  key_ref: string;
  key_json: string;
  created_at: number;
  retired_at: number | null;
}

/** Every file ever listed as a TUF target, so /tuf/targets serves only those. */
export interface TufTargetFileTable {
  path: string;
  sha256: string;
  length: number;
  created_at: number;
}

/** A phased rollout of one published release to a selection of devices. */
export interface CampaignTable {
  id: string;
  release_id: string;
  name: string;
  /** `awaiting-approval`: the open phases met the success threshold; a person must open the next. */
  state: 'running' | 'paused' | 'awaiting-approval' | 'completed' | 'cancelled';
  /** 0/1: skips maintenance windows and phase waits, never the clinical safety gate. */
  emergency: number;
  /** JSON array of cumulative percentages, e.g. [1, 10, 50, 100]. */
  phases: string;
  current_phase: number;
  /** Fractions (0-1) of the open phases' devices: installed to advance, failed to pause. */
  success_threshold: number;
  failure_threshold: number;
  /** JSON `{ startHour, endHour }` in each site's local time, or null for any time. */
  maintenance_window: string | null;
  /** JSON of the selection it was created with. */
  selection: string;
  paused_reason: string | null;
  created_at: number;
  created_by: string;
  updated_at: number;
  /** 0/1: each next phase waits for a release manager's approval (20261123-55). */
  requires_approval: number;
}

export interface CampaignDeviceTable {
  campaign_id: string;
  device_id: string;
  site_id: string | null;
  phase: number;
  status: 'pending' | 'downloading' | 'installing' | 'installed' | 'failed' | 'rolled-back';
  /** Why the device is waiting (e.g. therapy-running), shown to operators. */
  detail: string | null;
  updated_at: number;
}

/** A label a tenant puts on its own device; campaigns may select by it. */
export interface DeviceTagTable {
  device_id: string;
  tag: string;
  /** The device's tenant when the tag was set: tags are that tenant's vocabulary. */
  tenant_id: string;
  created_at: number;
  created_by: string;
}

export interface UpdateTables {
  device_tag: DeviceTagTable;
  campaign: CampaignTable;
  campaign_device: CampaignDeviceTable;
  release: ReleaseTable;
  release_model: ReleaseModelTable;
  tuf_metadata: TufMetadataTable;
  tuf_key: TufKeyTable;
  tuf_target_file: TufTargetFileTable;
}
