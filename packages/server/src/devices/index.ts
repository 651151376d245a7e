export { deviceMigrations } from './migrations.ts';
export type { DeviceTables, DeviceTable } from './tables.ts';
