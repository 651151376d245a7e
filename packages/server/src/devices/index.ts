export { deviceMigrations } from './migrations.ts';
export type { DeviceTables, DeviceTable } from './tables.ts';
export { DeviceRegistry } from './device-registry.ts';
export type { Device, NewDevice, DeviceQuery } from './device-registry.ts';
export { canTransition, DEVICE_STATES, isDeviceState } from './device-lifecycle.ts';
export type { DeviceState } from './device-lifecycle.ts';
export { deviceRoutes } from './device-routes.ts';
