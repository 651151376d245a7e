import type { DeviceTable } from './tables.ts';

export type DeviceState = DeviceTable['state'];

export const DEVICE_STATES: readonly DeviceState[] = ['manufactured', 'provisioned', 'enrolled', 'active', 'quarantined', 'decommissioned'];

/**
 * Allowed lifecycle moves (docs/device-lifecycle.md says which step makes each). Any state may be
 * decommissioned; a quarantined device may return to active; decommissioned is final.
 */
const NEXT: Readonly<Record<DeviceState, readonly DeviceState[]>> = {
  manufactured: ['provisioned', 'enrolled', 'decommissioned'],
  provisioned: ['enrolled', 'decommissioned'],
  enrolled: ['active', 'quarantined', 'decommissioned'],
  active: ['quarantined', 'decommissioned'],
  quarantined: ['active', 'decommissioned'],
  decommissioned: [],
};

export function canTransition(from: DeviceState, to: DeviceState): boolean {
  return NEXT[from].includes(to);
}

export function isDeviceState(s: string): s is DeviceState {
  return (DEVICE_STATES as readonly string[]).includes(s);
}
