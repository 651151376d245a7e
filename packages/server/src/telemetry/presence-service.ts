import { type Clock, systemClock } from '@medtrust/core';
import type { Kysely } from 'kysely';
import type { Database } from '../db/index.ts';

export type PresenceStatus = 'online' | 'late' | 'offline' | 'never-seen';

export interface Presence {
  readonly deviceId: string;
  readonly status: PresenceStatus;
  readonly lastSeenAt: number | null;
  readonly connectedAt: number | null;
  readonly heartbeatIntervalMs: number;
  readonly transport: string | null;
}

export interface ConnectionRecord {
  readonly id: number;
  readonly transport: string;
  readonly certSerial: string;
  readonly remoteAddress: string | null;
  readonly connectedAt: number;
  readonly disconnectedAt: number | null;
  readonly endReason: string | null;
}

export const DEFAULT_HEARTBEAT_INTERVAL_MS = 60_000;

/**
 * Online/offline, last seen and connection history. Last-seen times are kept in memory on the
 * message path and written in one statement per device every `flushIntervalMs`, so a busy device
 * costs one write per second, not one per message.
 */
export class PresenceService {
  readonly #db: Kysely<Database>;
  readonly #clock: Clock;
  readonly #node: string;
  readonly #lastSeen = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;

  constructor(opts: { db: Kysely<Database>; clock?: Clock; node: string }) {
    this.#db = opts.db;
    this.#clock = opts.clock ?? systemClock;
    this.#node = opts.node;
  }

  start(flushIntervalMs = 1000): void {
    this.#timer = setInterval(() => void this.flush().catch(() => undefined), flushIntervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
  }

  /** Records a new connection; returns its history id. */
  async connected(c: { deviceId: string; tenantId: string; transport: 'mqtt' | 'https'; certSerial: string; remoteAddress: string | null }): Promise<number> {
    const now = this.#clock.nowMs();
    const row = await this.#db.insertInto('device_connection')
      .values({ device_id: c.deviceId, tenant_id: c.tenantId, transport: c.transport, cert_serial: c.certSerial, remote_address: c.remoteAddress, connected_at: now, disconnected_at: null, end_reason: null })
      .returning('id').executeTakeFirstOrThrow();
    await this.#db.insertInto('device_presence')
      .values({ device_id: c.deviceId, tenant_id: c.tenantId, online: 1, last_seen_at: now, connected_at: now, disconnected_at: null, transport: c.transport, node: this.#node })
      .onConflict((oc) => oc.column('device_id').doUpdateSet({ online: 1, last_seen_at: now, connected_at: now, disconnected_at: null, transport: c.transport, node: this.#node }))
      .execute();
    return Number(row.id);
  }

  async disconnected(connectionId: number, deviceId: string, reason: string): Promise<void> {
    const now = this.#clock.nowMs();
    this.#lastSeen.delete(deviceId);
    await this.#db.updateTable('device_connection').set({ disconnected_at: now, end_reason: reason }).where('id', '=', connectionId).where('disconnected_at', 'is', null).execute();
    // Only if no newer connection of the same device took over meanwhile (reconnect races).
    await this.#db.updateTable('device_presence').set({ online: 0, disconnected_at: now, last_seen_at: now })
      .where('device_id', '=', deviceId).where('node', '=', this.#node).where((eb) => eb('connected_at', '<=', eb.selectFrom('device_connection').select('connected_at').where('id', '=', connectionId)))
      .execute();
  }

  /** A message or heartbeat arrived: cheap, in memory. */
  seen(deviceId: string): void {
    this.#lastSeen.set(deviceId, this.#clock.nowMs());
  }

  async flush(): Promise<void> {
    if (this.#lastSeen.size === 0) return;
    const entries = [...this.#lastSeen];
    this.#lastSeen.clear();
    for (const [deviceId, at] of entries) {
      await this.#db.updateTable('device_presence').set({ last_seen_at: at }).where('device_id', '=', deviceId).where('last_seen_at', '<', at).execute();
    }
  }

  /** Marks this node's connections closed (start-up after a crash, or shutdown). */
  async closeAllOfNode(reason: string): Promise<void> {
    const now = this.#clock.nowMs();
    const mine = await this.#db.selectFrom('device_presence').select('device_id').where('node', '=', this.#node).where('online', '=', 1).execute();
    for (const { device_id } of mine) {
      await this.#db.updateTable('device_connection').set({ disconnected_at: now, end_reason: reason }).where('device_id', '=', device_id).where('disconnected_at', 'is', null).execute();
    }
    await this.#db.updateTable('device_presence').set({ online: 0, disconnected_at: now }).where('node', '=', this.#node).where('online', '=', 1).execute();
  }

  async setHeartbeatInterval(model: string, heartbeatIntervalMs: number): Promise<void> {
    const now = this.#clock.nowMs();
    await this.#db.insertInto('device_model_profile').values({ model, heartbeat_interval_ms: heartbeatIntervalMs, updated_at: now })
      .onConflict((oc) => oc.column('model').doUpdateSet({ heartbeat_interval_ms: heartbeatIntervalMs, updated_at: now })).execute();
  }

  /** Presence of a device of `model`: `late` when connected but silent for twice its heartbeat interval. */
  async get(deviceId: string, model: string): Promise<Presence> {
    const [row, profile] = await Promise.all([
      this.#db.selectFrom('device_presence').selectAll().where('device_id', '=', deviceId).executeTakeFirst(),
      this.#db.selectFrom('device_model_profile').select('heartbeat_interval_ms').where('model', '=', model).executeTakeFirst(),
    ]);
    const heartbeatIntervalMs = Number(profile?.heartbeat_interval_ms ?? DEFAULT_HEARTBEAT_INTERVAL_MS);
    if (!row) return { deviceId, status: 'never-seen', lastSeenAt: null, connectedAt: null, heartbeatIntervalMs, transport: null };
    const lastSeenAt = Math.max(Number(row.last_seen_at), this.#lastSeen.get(deviceId) ?? 0);
    const status: PresenceStatus = row.online !== 1 ? 'offline' : this.#clock.nowMs() - lastSeenAt > 2 * heartbeatIntervalMs ? 'late' : 'online';
    return { deviceId, status, lastSeenAt, connectedAt: row.connected_at === null ? null : Number(row.connected_at), heartbeatIntervalMs, transport: row.transport };
  }

  async history(deviceId: string, limit = 50): Promise<ConnectionRecord[]> {
    const rows = await this.#db.selectFrom('device_connection').selectAll().where('device_id', '=', deviceId).orderBy('id', 'desc').limit(limit).execute();
    return rows.map((r) => ({ id: Number(r.id), transport: r.transport, certSerial: r.cert_serial, remoteAddress: r.remote_address, connectedAt: Number(r.connected_at), disconnectedAt: r.disconnected_at === null ? null : Number(r.disconnected_at), endReason: r.end_reason }));
  }
}
