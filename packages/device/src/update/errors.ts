import { MedTrustError } from '@medtrust/core';

/** Why the device did not install an update; reported with status `failed` or `rolled-back`. */
export type DeviceUpdateErrorCode =
  | 'UPDATE_METADATA_REFUSED'
  | 'UPDATE_NOT_FOUND'
  | 'UPDATE_DOWNGRADE_REFUSED'
  | 'UPDATE_HARDWARE_MISMATCH'
  | 'UPDATE_DOWNLOAD_REFUSED'
  | 'UPDATE_HEALTH_CHECK_FAILED'
  | 'UPDATE_DEFERRED';

export class DeviceUpdateError extends MedTrustError<DeviceUpdateErrorCode> {}
