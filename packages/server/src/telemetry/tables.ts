import type { Generated } from 'kysely';

/** One accepted device message, stored once per (device_id, message_id). */
export interface TelemetryMessageTable {
  /** Arrival order across the platform. */
  seq: Generated<number>;
  device_id: string;
  message_id: string;
  tenant_id: string;
  kind: 'vitals' | 'infusion' | 'health';
  /** Device clock when the reading was taken (ms); buffered readings keep their original time. */
  device_ts: number;
  received_at: number;
  /** `mqtt` or `https`. */
  transport: string;
  /** The validated message as JSON. */
  payload: string;
}

/** Numeric series derived from messages, for range queries and downsampling. */
export interface TelemetrySampleTable {
  device_id: string;
  metric: string;
  ts: number;
  value: number;
  message_id: string;
}

/** Current presence of a device: one row per device that ever connected. */
export interface DevicePresenceTable {
  device_id: string;
  tenant_id: string;
  /** 0/1. */
  online: number;
  last_seen_at: number;
  connected_at: number | null;
  disconnected_at: number | null;
  transport: string;
  /** Node (event bus origin) holding the connection. */
  node: string | null;
}

/** Every connection a device made, with why it ended. */
export interface DeviceConnectionTable {
  id: Generated<number>;
  device_id: string;
  tenant_id: string;
  transport: string;
  cert_serial: string;
  remote_address: string | null;
  connected_at: number;
  disconnected_at: number | null;
  /** `client-closed`, `revoked`, `quarantined`, `decommissioned`, `topic-forbidden`, `shutdown`, `node-lost`, ... */
  end_reason: string | null;
  /** Node that held the connection; null for rows written before nodes were recorded. */
  node: string | null;
}

/** A platform node holding device connections, with its last heartbeat. */
export interface PresenceNodeTable {
  node: string;
  started_at: number;
  heartbeat_at: number;
  /** Set when the cluster presumed the node dead and closed its connections. */
  reaped_at: number | null;
}

/** Expected heartbeat interval per device model (a device silent for 2x this is `late`). */
export interface DeviceModelProfileTable {
  model: string;
  heartbeat_interval_ms: number;
  updated_at: number;
}

export interface TelemetryTables {
  telemetry_message: TelemetryMessageTable;
  telemetry_sample: TelemetrySampleTable;
  device_presence: DevicePresenceTable;
  device_connection: DeviceConnectionTable;
  device_model_profile: DeviceModelProfileTable;
  presence_node: PresenceNodeTable;
}
