export interface DeviceTable {
  id: string;
  /** Manufacturer serial number; unique per model. */
  serial: string;
  model: string;
  hardware_revision: string;
  /** Owning tenant: the operator until a hospital claims it. */
  tenant_id: string;
  site_id: string | null;
  state: 'manufactured' | 'provisioned' | 'enrolled' | 'active' | 'quarantined' | 'decommissioned';
  firmware_version: string | null;
  batch_id: string | null;
  created_at: number;
  updated_at: number;
}

export interface DeviceTables {
  device: DeviceTable;
}
