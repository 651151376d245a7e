import type { DeviceUpdateErrorCode } from './errors.ts';

/** Per-device update status as the device reports it (carried to the platform over MQTT). */
export type UpdateStatus =
  | { readonly kind: 'pending'; readonly version: string; readonly reason?: 'therapy-running' }
  | { readonly kind: 'downloading'; readonly version: string }
  | { readonly kind: 'installing'; readonly version: string; readonly slot: 'a' | 'b' }
  | { readonly kind: 'installed'; readonly version: string; readonly slot: 'a' | 'b' }
  | { readonly kind: 'failed'; readonly version: string | null; readonly code: DeviceUpdateErrorCode }
  | { readonly kind: 'rolled-back'; readonly version: string; readonly code: DeviceUpdateErrorCode; readonly runningVersion: string };

export type UpdateStatusKind = UpdateStatus['kind'];
