/** What issuance needs to know about a device; the device registry provides it. */
export interface IssuanceDevice {
  readonly id: string;
  readonly serial: string;
  readonly model: string;
  readonly hardwareRevision: string;
  readonly tenantId: string;
  readonly state: 'manufactured' | 'provisioned' | 'enrolled' | 'active' | 'quarantined' | 'decommissioned';
}

/** Device lookups for the issuer (implemented by devices/DeviceRegistry; no import of devices/ here). */
export interface DeviceDirectory {
  find(id: string): Promise<IssuanceDevice | undefined>;
  findMany(ids: readonly string[]): Promise<ReadonlyMap<string, IssuanceDevice>>;
}
