import type { DeviceTable } from '../devices/index.ts';

/** What the gateway needs to know about a device. */
export interface DeviceView {
  readonly id: string;
  readonly tenantId: string;
  readonly model: string;
  readonly state: DeviceTable['state'];
}

/** The gateway's seam to the device registry (devices/), passed in at construction. */
export interface DeviceDirectory {
  get(deviceId: string): Promise<DeviceView | undefined>;
  /** Lifecycle enrolled -> active on the first successful connection; no-op in other states. */
  activate(deviceId: string, actor: string): Promise<void>;
}
