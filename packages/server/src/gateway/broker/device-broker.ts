/** Why the platform ended a device connection (recorded in the connection history). */
export type DisconnectReason = 'revoked' | 'quarantined' | 'decommissioned' | 'expired' | 'topic-forbidden' | 'rate-limited' | 'ingest-failed' | 'shutdown';

/**
 * The device-facing MQTT side, embedded (aedes in-process) or external (a broker the platform
 * consumes through shared subscriptions). Both shapes live under gateway/broker/.
 */
export interface DeviceBroker {
  readonly kind: 'embedded' | 'external';
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Sends a platform message to a device topic (`devices/{id}/{suffix}`), QoS 1. */
  publishToDevice(deviceId: string, suffix: string, payload: Buffer | string): Promise<void>;
  /** Ends the device's live connection(s), if any on this node; returns how many. */
  disconnect(deviceId: string, reason: DisconnectReason): number;
}
