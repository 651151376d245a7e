import { type Clock, systemClock } from '@medtrust/core';
import type { Kysely } from 'kysely';
import type { AuditLog } from '../audit/index.ts';
import type { Database } from '../db/index.ts';
import type { EventBus } from '../events/index.ts';
import type { Job } from '../jobs/index.ts';
import { NODE_HEARTBEAT_INTERVAL_MS, NODE_LOST } from './presence-service.ts';

export const STALE_NODE_JOB = 'telemetry.presence.stale-nodes';

/** Six missed heartbeats: long enough for a GC pause or a slow database, short for a ward. */
export const DEFAULT_NODE_STALE_AFTER_MS = 6 * NODE_HEARTBEAT_INTERVAL_MS;

export interface ReapResult {
  /** Nodes presumed dead by this run. */
  readonly nodes: readonly string[];
  /** Devices marked offline. */
  readonly devices: number;
}

/**
 * Devices connected to a platform node that crashed would stay "online" forever: nobody is left
 * to record their disconnect. This cluster job (run by one node at a time) marks offline the
 * presence rows held by a node without a fresh heartbeat, closes that node's open connections
 * with reason `node-lost`, audits each device and tells the cluster.
 */
export class StaleNodeReaper {
  readonly #db: Kysely<Database>;
  readonly #clock: Clock;
  readonly #audit: AuditLog;
  readonly #events: EventBus | undefined;
  readonly #staleAfterMs: number;

  constructor(opts: { db: Kysely<Database>; audit: AuditLog; events?: EventBus; clock?: Clock; staleAfterMs?: number }) {
    this.#db = opts.db;
    this.#audit = opts.audit;
    this.#events = opts.events;
    this.#clock = opts.clock ?? systemClock;
    this.#staleAfterMs = opts.staleAfterMs ?? DEFAULT_NODE_STALE_AFTER_MS;
  }

  job(intervalMs = 15_000): Job {
    return { name: STALE_NODE_JOB, intervalMs, run: async () => void (await this.reap()) };
  }

  async reap(): Promise<ReapResult> {
    const now = this.#clock.nowMs();
    const freshSince = now - this.#staleAfterMs;
    // Online rows whose node has no fresh heartbeat: the node crashed, was partitioned away, or
    // predates node heartbeats (null node). A node that stopped cleanly deleted its heartbeat row.
    const rows = await this.#db.selectFrom('device_presence').select(['device_id', 'tenant_id', 'node'])
      .where('online', '=', 1)
      .where((eb) => eb.not(eb.exists(eb.selectFrom('presence_node').select('presence_node.node')
        .whereRef('presence_node.node', '=', 'device_presence.node').where('presence_node.heartbeat_at', '>=', freshSince))))
      .execute();
    const nodes = [...new Set(rows.map((r) => r.node))];
    const lost: { deviceId: string; tenantId: string; node: string | null }[] = [];
    for (const node of nodes) {
      await this.#db.transaction().execute(async (trx) => {
        // Conditional on the node still holding the row: a device that already reconnected to a
        // live node keeps its fresh presence.
        const byNode = node === null ? trx.updateTable('device_presence').where('node', 'is', null) : trx.updateTable('device_presence').where('node', '=', node);
        const marked = await byNode.set({ online: 0, disconnected_at: now }).where('online', '=', 1).returning(['device_id', 'tenant_id']).execute();
        for (const m of marked) lost.push({ deviceId: m.device_id, tenantId: m.tenant_id, node });
        if (node === null) {
          // Rows from before nodes were recorded: close the open connections of those devices.
          for (const m of marked) await trx.updateTable('device_connection').set({ disconnected_at: now, end_reason: NODE_LOST }).where('device_id', '=', m.device_id).where('node', 'is', null).where('disconnected_at', 'is', null).execute();
        } else {
          await trx.updateTable('device_connection').set({ disconnected_at: now, end_reason: NODE_LOST }).where('node', '=', node).where('disconnected_at', 'is', null).execute();
          await trx.updateTable('presence_node').set({ reaped_at: now }).where('node', '=', node).execute();
        }
      });
    }
    if (lost.length === 0) return { nodes: [], devices: 0 };
    await this.#audit.appendMany(lost.map((l) => ({
      actor: 'system', action: 'presence.node-lost', target: `device:${l.deviceId}`, tenantId: l.tenantId,
      details: { node: l.node, staleAfterMs: this.#staleAfterMs },
    })));
    const named = nodes.filter((n): n is string => n !== null);
    for (const node of named) await this.#events?.publish({ kind: 'presence.node-lost', node, devices: lost.filter((l) => l.node === node).length });
    return { nodes: named, devices: lost.length };
  }
}
