export { UpdateClient } from './update-client.ts';
export type { UpdateClientOptions, UpdateResult } from './update-client.ts';
export type { UpdateStatus, UpdateStatusKind } from './update-status.ts';
export { DeviceUpdateError } from './errors.ts';
export type { DeviceUpdateErrorCode } from './errors.ts';
export { AbSlots } from './ab-slots.ts';
export type { InstalledFirmware, SlotName } from './ab-slots.ts';
export { compareVersion, schemeOf } from './version-order.ts';
