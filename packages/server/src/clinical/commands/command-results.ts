import { type Clock, systemClock } from '@medtrust/core';
import type { Kysely } from 'kysely';
import type { AuditLog } from '../../audit/index.ts';
import type { Database } from '../../db/index.ts';
import type { DeviceCommandTable } from '../tables.ts';
import { type CommandAck, nextCommandStatus, parseCommandAck } from './command-ack.ts';

/**
 * Records what devices report about commands (`devices/{id}/command-results`): the command's
 * status moves on (issued -> acknowledged -> executed | failed, or issued -> rejected) and every
 * report, including a refused replay or forgery that changes nothing, is audited. A device can
 * only report on its own commands (the gateway names the device from its certificate).
 */
export class CommandResults {
  readonly #db: Kysely<Database>;
  readonly #audit: AuditLog;
  readonly #clock: Clock;

  constructor(opts: { db: Kysely<Database>; audit: AuditLog; clock?: Clock }) {
    this.#db = opts.db;
    this.#audit = opts.audit;
    this.#clock = opts.clock ?? systemClock;
  }

  /** The gateway's hook: parse, then record. A malformed report is audited and dropped (acknowledged). */
  async onPayload(session: { readonly deviceId: string; readonly tenantId: string }, payload: Buffer): Promise<void> {
    const ack = parseCommandAck(payload);
    if (!ack) {
      await this.#audit.append({ actor: `device:${session.deviceId}`, action: 'command.result-malformed', target: `device:${session.deviceId}`, tenantId: session.tenantId, outcome: 'failure', details: { bytes: payload.length } });
      return;
    }
    await this.record(session, ack);
  }

  /**
   * Issued commands the device never reported on, past their expiry (plus the devices' clock skew
   * allowance), become `expired`: the device will refuse them now, so the platform says so too.
   */
  async expireDue(skewMs = 30_000): Promise<number> {
    const now = this.#clock.nowMs();
    const due = await this.#db.selectFrom('device_command').select(['id', 'tenant_id', 'device_id']).where('status', '=', 'issued').where('expires_at', '<', now - skewMs).limit(500).execute();
    let n = 0;
    for (const c of due) {
      const u = await this.#db.updateTable('device_command').set({ status: 'expired' }).where('id', '=', c.id).where('status', '=', 'issued').executeTakeFirst();
      if (Number(u.numUpdatedRows) !== 1) continue;
      n++;
      await this.#audit.append({ actor: 'system', action: 'command.expired', target: `command:${c.id}`, tenantId: c.tenant_id, outcome: 'failure', details: { deviceId: c.device_id } });
    }
    return n;
  }

  async record(session: { readonly deviceId: string; readonly tenantId: string }, ack: CommandAck): Promise<void> {
    let row: { id: string; tenant_id: string; status: DeviceCommandTable['status'] } | undefined;
    let next: ReturnType<typeof nextCommandStatus>;
    let applied = false;
    // Compare-and-set on the status, read again when another report moved it first: `accepted`
    // and `executed` can arrive together (one socket read, or consumers running concurrently),
    // and the later one must not be lost. A handful of rounds: each lost race means progress.
    for (let attempt = 0; attempt < 5 && !applied; attempt++) {
      row = ack.commandId === null ? undefined
        : await this.#db.selectFrom('device_command').select(['id', 'tenant_id', 'status']).where('id', '=', ack.commandId).where('device_id', '=', session.deviceId).executeTakeFirst();
      next = row ? nextCommandStatus(row.status, ack) : undefined;
      if (!row || !next) break;
      const now = this.#clock.nowMs();
      const u = await this.#db.updateTable('device_command')
        .set({ status: next, ack_detail: ack.code ?? ack.result, ...(next === 'acknowledged' || next === 'rejected' || row.status === 'issued' ? { acked_at: now } : {}) })
        .where('id', '=', row.id).where('status', '=', row.status).executeTakeFirst();
      applied = Number(u.numUpdatedRows) === 1;
    }
    const good = ack.result === 'accepted' || ack.result === 'executed';
    await this.#audit.append({
      actor: `device:${session.deviceId}`, action: `command.device-${ack.result}`, target: row ? `command:${row.id}` : `device:${session.deviceId}`,
      tenantId: row?.tenant_id ?? session.tenantId, outcome: good ? 'success' : ack.result === 'refused' ? 'denied' : 'failure',
      details: { commandId: ack.commandId, code: ack.code ?? null, status: applied ? next : (row?.status ?? null), known: row !== undefined },
    });
  }
}
