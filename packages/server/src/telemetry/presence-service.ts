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
/** How often a node tells the cluster it is alive (presence_node.heartbeat_at). */
export const NODE_HEARTBEAT_INTERVAL_MS = 10_000;
/** End reason of connections closed because their node stopped heartbeating. */
export const NODE_LOST = 'node-lost';

interface LiveConnection {
  readonly deviceId: string;
  readonly tenantId: string;
  readonly transport: 'mqtt' | 'https';
  readonly certSerial: string;
  readonly remoteAddress: string | null;
  readonly connectedAt: number;
}

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
  /** Connections this node holds, so that they can be re-asserted if the cluster wrongly reaped it. */
  readonly #live = new Map<number, LiveConnection>();
  #timer: NodeJS.Timeout | undefined;
  #heartbeatTimer: NodeJS.Timeout | undefined;
  #onReasserted: ((devices: number) => void) | undefined;

  constructor(opts: { db: Kysely<Database>; clock?: Clock; node: string }) {
    this.#db = opts.db;
    this.#clock = opts.clock ?? systemClock;
    this.#node = opts.node;
  }

  /** This node's id, as written in presence rows. */
  get node(): string {
    return this.#node;
  }

  start(flushIntervalMs = 1000, heartbeatIntervalMs = NODE_HEARTBEAT_INTERVAL_MS): void {
    this.#timer = setInterval(() => void this.flush().catch(() => undefined), flushIntervalMs);
    this.#timer.unref();
    this.#heartbeatTimer = setInterval(() => void this.heartbeat().catch(() => undefined), heartbeatIntervalMs);
    this.#heartbeatTimer.unref();
  }

  /** Stops the timers; a node that stops cleanly leaves the cluster (its heartbeat row goes). */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    clearInterval(this.#heartbeatTimer);
    await this.flush();
    await this.#db.deleteFrom('presence_node').where('node', '=', this.#node).execute();
  }

  /** Called with the number of connections re-asserted after the cluster presumed this node dead. */
  onReasserted(listener: (devices: number) => void): void {
    this.#onReasserted = listener;
  }

  /**
   * Tells the cluster this node is alive. If the stale-node job reaped it meanwhile (a long pause,
   * a partition from the database), the devices it still holds are marked online again.
   */
  async heartbeat(): Promise<void> {
    const now = this.#clock.nowMs();
    const row = await this.#db.selectFrom('presence_node').select('reaped_at').where('node', '=', this.#node).executeTakeFirst();
    await this.#db.insertInto('presence_node').values({ node: this.#node, started_at: now, heartbeat_at: now, reaped_at: null })
      .onConflict((oc) => oc.column('node').doUpdateSet({ heartbeat_at: now, reaped_at: null })).execute();
    if (row?.reaped_at === null || row === undefined || this.#live.size === 0) return;
    let reasserted = 0;
    for (const [id, c] of this.#live) {
      // The same history row is reopened: the connection never ended. A newer connection of the
      // device (on another node) keeps the presence row.
      await this.#db.updateTable('device_connection').set({ disconnected_at: null, end_reason: null }).where('id', '=', id).where('end_reason', '=', NODE_LOST).execute();
      const r = await this.#db.updateTable('device_presence').set({ online: 1, node: this.#node, disconnected_at: null, connected_at: c.connectedAt, transport: c.transport })
        .where('device_id', '=', c.deviceId).where('connected_at', '<=', c.connectedAt).executeTakeFirst();
      reasserted += Number(r.numUpdatedRows);
    }
    this.#onReasserted?.(reasserted);
  }

  /** Records a new connection; returns its history id. */
  async connected(c: { deviceId: string; tenantId: string; transport: 'mqtt' | 'https'; certSerial: string; remoteAddress: string | null }): Promise<number> {
    const now = this.#clock.nowMs();
    const row = await this.#db.insertInto('device_connection')
      .values({ device_id: c.deviceId, tenant_id: c.tenantId, transport: c.transport, cert_serial: c.certSerial, remote_address: c.remoteAddress, connected_at: now, disconnected_at: null, end_reason: null, node: this.#node })
      .returning('id').executeTakeFirstOrThrow();
    this.#live.set(Number(row.id), { deviceId: c.deviceId, tenantId: c.tenantId, transport: c.transport, certSerial: c.certSerial, remoteAddress: c.remoteAddress, connectedAt: now });
    await this.#db.insertInto('device_presence')
      .values({ device_id: c.deviceId, tenant_id: c.tenantId, online: 1, last_seen_at: now, connected_at: now, disconnected_at: null, transport: c.transport, node: this.#node })
      .onConflict((oc) => oc.column('device_id').doUpdateSet({ online: 1, last_seen_at: now, connected_at: now, disconnected_at: null, transport: c.transport, node: this.#node }))
      .execute();
    return Number(row.id);
  }

  async disconnected(connectionId: number, deviceId: string, reason: string): Promise<void> {
    const now = this.#clock.nowMs();
    this.#lastSeen.delete(deviceId);
    this.#live.delete(connectionId);
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
