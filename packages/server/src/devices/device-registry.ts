import { type Clock, CoreError, newId, systemClock } from '@medtrust/core';
import type { Kysely } from 'kysely';
import type { AuditLog } from '../audit/index.ts';
import type { Database } from '../db/index.ts';
import type { EventBus } from '../events/index.ts';
import { PkiError } from '../pki/index.ts';
import type { DeviceDirectory } from '../pki/index.ts';
import { canTransition, type DeviceState, isDeviceState } from './device-lifecycle.ts';
import type { DeviceTable } from './tables.ts';

export interface Device {
  readonly id: string;
  readonly serial: string;
  readonly model: string;
  readonly hardwareRevision: string;
  readonly tenantId: string;
  readonly siteId: string | null;
  readonly state: DeviceState;
  readonly firmwareVersion: string | null;
  readonly batchId: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface NewDevice {
  readonly serial: string;
  readonly model: string;
  readonly hardwareRevision: string;
  readonly tenantId: string;
  readonly batchId?: string;
}

export interface DeviceQuery {
  readonly tenantId?: string;
  readonly siteId?: string;
  readonly state?: DeviceState;
  readonly model?: string;
  readonly batchId?: string;
  /** At most 1000; ordered by id. */
  readonly limit?: number;
  /** Continue after this id (exclusive). */
  readonly afterId?: string;
}

// The serial becomes an X.520 serialNumber (PrintableString) and, with the model, the IDevID CN
// (at most 64 characters, RFC 5280 ub-common-name).
const SERIAL = /^[A-Za-z0-9][A-Za-z0-9.-]{0,31}$/;
const MODEL = /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,30}$/;
const HW_REV = /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,31}$/;

/** The device registry and its lifecycle state machine (table `device`). */
export class DeviceRegistry implements DeviceDirectory {
  readonly #db: Kysely<Database>;
  readonly #audit: AuditLog;
  readonly #events: EventBus;
  readonly #clock: Clock;

  constructor(opts: { db: Kysely<Database>; audit: AuditLog; events: EventBus; clock?: Clock }) {
    this.#db = opts.db;
    this.#audit = opts.audit;
    this.#events = opts.events;
    this.#clock = opts.clock ?? systemClock;
  }

  async create(d: NewDevice, actor: string): Promise<Device> {
    const [dev] = await this.createMany([d], actor);
    return dev as Device;
  }

  /** Creates devices in `manufactured`, in one transaction; CONFLICT if a model+serial exists. */
  async createMany(devices: readonly NewDevice[], actor: string): Promise<Device[]> {
    const now = this.#clock.nowMs();
    const seen = new Set<string>();
    const rows: DeviceTable[] = devices.map((d) => {
      if (!SERIAL.test(d.serial)) throw new CoreError('REQUEST_INVALID', 'serial must be 1-32 of [A-Za-z0-9.-]', { details: { serial: d.serial } });
      if (!MODEL.test(d.model)) throw new CoreError('REQUEST_INVALID', 'model must be 1-31 of [A-Za-z0-9 ._-]', { details: { model: d.model } });
      if (!HW_REV.test(d.hardwareRevision)) throw new CoreError('REQUEST_INVALID', 'hardware revision must be 1-32 of [A-Za-z0-9 ._-]');
      const key = `${d.model}\u0000${d.serial}`;
      if (seen.has(key)) throw new CoreError('CONFLICT', 'the same serial appears twice', { details: { serial: d.serial } });
      seen.add(key);
      return { id: newId('dev'), serial: d.serial, model: d.model, hardware_revision: d.hardwareRevision, tenant_id: d.tenantId, site_id: null, state: 'manufactured', firmware_version: null, batch_id: d.batchId ?? null, created_at: now, updated_at: now };
    });
    if (rows.length === 0) return [];
    await this.#db.transaction().execute(async (trx) => {
      for (let i = 0; i < rows.length; i += 500) {
        const chunk = rows.slice(i, i + 500);
        const existing = await trx.selectFrom('device').select(['serial', 'model']).where('serial', 'in', chunk.map((r) => r.serial)).execute();
        const clash = existing.find((e) => seen.has(`${e.model}\u0000${e.serial}`));
        if (clash) throw new CoreError('CONFLICT', 'a device with this model and serial exists', { details: { serial: clash.serial, model: clash.model } });
        await trx.insertInto('device').values(chunk).execute();
      }
    });
    for (let i = 0; i < rows.length; i += 1000) {
      await this.#audit.appendMany(rows.slice(i, i + 1000).map((r) => ({ actor, action: 'device.created', target: `device:${r.id}`, tenantId: r.tenant_id, details: { serial: r.serial, model: r.model, hardwareRevision: r.hardware_revision, batchId: r.batch_id } })));
    }
    return rows.map(toDevice);
  }

  /** DEVICE_UNKNOWN if absent. */
  async get(id: string): Promise<Device> {
    const d = await this.find(id);
    if (!d) throw new PkiError('DEVICE_UNKNOWN', 'the device is not in the registry', { details: { id } });
    return d;
  }

  async find(id: string): Promise<Device | undefined> {
    const r = await this.#db.selectFrom('device').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? toDevice(r) : undefined;
  }

  async findMany(ids: readonly string[]): Promise<ReadonlyMap<string, Device>> {
    const out = new Map<string, Device>();
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await this.#db.selectFrom('device').selectAll().where('id', 'in', ids.slice(i, i + 500)).execute();
      for (const r of rows) out.set(r.id, toDevice(r));
    }
    return out;
  }

  /** By manufacturer serial; `model` disambiguates when two models share a serial (CONFLICT otherwise). */
  async getBySerial(serial: string, model?: string): Promise<Device> {
    let q = this.#db.selectFrom('device').selectAll().where('serial', '=', serial);
    if (model !== undefined) q = q.where('model', '=', model);
    const rows = await q.limit(2).execute();
    if (rows.length === 0) throw new PkiError('DEVICE_UNKNOWN', 'no device with that serial', { details: { serial } });
    if (rows.length > 1) throw new CoreError('CONFLICT', 'several models have a device with that serial; name the model', { details: { serial } });
    return toDevice(rows[0] as DeviceTable);
  }

  async list(q: DeviceQuery = {}): Promise<Device[]> {
    let query = this.#db.selectFrom('device').selectAll();
    if (q.tenantId !== undefined) query = query.where('tenant_id', '=', q.tenantId);
    if (q.siteId !== undefined) query = query.where('site_id', '=', q.siteId);
    if (q.state !== undefined) query = query.where('state', '=', q.state);
    if (q.model !== undefined) query = query.where('model', '=', q.model);
    if (q.batchId !== undefined) query = query.where('batch_id', '=', q.batchId);
    if (q.afterId !== undefined) query = query.where('id', '>', q.afterId);
    const rows = await query.orderBy('id').limit(Math.min(Math.max(q.limit ?? 100, 1), 1000)).execute();
    return rows.map(toDevice);
  }

  /**
   * Moves a device along its lifecycle. The same state again is a no-op (returns the device);
   * a move the state machine forbids is DEVICE_STATE_INVALID. Audited and announced. With
   * `onlyFrom`, the move happens only from that state and is otherwise a no-op (the device is
   * returned unchanged): an automatic move (activation on first connect) must not undo a person's
   * decision made meanwhile (a quarantine).
   */
  async transition(id: string, to: DeviceState, actor: string, opts: { readonly onlyFrom?: DeviceState } = {}): Promise<Device> {
    if (!isDeviceState(to)) throw new PkiError('DEVICE_STATE_INVALID', 'no such lifecycle state', { details: { to } });
    for (let attempt = 0; attempt < 3; attempt++) {
      const d = await this.get(id);
      if (d.state === to) return d;
      if (opts.onlyFrom !== undefined && d.state !== opts.onlyFrom) return d;
      if (!canTransition(d.state, to)) {
        await this.#audit.append({ actor, action: 'device.state-change', target: `device:${id}`, tenantId: d.tenantId, outcome: 'denied', details: { from: d.state, to } });
        throw new PkiError('DEVICE_STATE_INVALID', `a ${d.state} device cannot become ${to}`, { details: { id, from: d.state, to } });
      }
      const now = this.#clock.nowMs();
      // Compare-and-set on the state: a concurrent transition makes this one re-read and re-check.
      const res = await this.#db.updateTable('device').set({ state: to, updated_at: now }).where('id', '=', id).where('state', '=', d.state).executeTakeFirst();
      if (Number(res.numUpdatedRows) === 0) continue;
      await this.#audit.append({ actor, action: 'device.state-change', target: `device:${id}`, tenantId: d.tenantId, details: { from: d.state, to } });
      await this.#events.publish({ kind: 'device.state-changed', deviceId: id, from: d.state, to });
      return { ...d, state: to, updatedAt: now };
    }
    throw new PkiError('DEVICE_STATE_INVALID', 'the device state is changing concurrently; retry', { details: { id } });
  }

  /**
   * Records the firmware a device runs (the factory image, or a version the device reported);
   * vulnerability matching and update campaigns select devices by it. Audited when it changes.
   */
  async recordFirmware(id: string, firmwareVersion: string, actor: string): Promise<Device> {
    if (!/^[A-Za-z0-9.+_-]{1,64}$/.test(firmwareVersion)) throw new CoreError('REQUEST_INVALID', 'firmware version must be 1-64 of [A-Za-z0-9.+_-]');
    const d = await this.get(id);
    if (d.firmwareVersion === firmwareVersion) return d;
    const now = this.#clock.nowMs();
    await this.#db.updateTable('device').set({ firmware_version: firmwareVersion, updated_at: now }).where('id', '=', id).execute();
    await this.#audit.append({ actor, action: 'device.firmware-recorded', target: `device:${id}`, tenantId: d.tenantId, details: { from: d.firmwareVersion, to: firmwareVersion } });
    return { ...d, firmwareVersion, updatedAt: now };
  }

  /**
   * Hands a device to a customer tenant (a hospital claims it) and optionally one of its sites.
   * The caller checks that the tenant and site exist and that the site belongs to the tenant.
   */
  async assign(id: string, tenantId: string, siteId: string | null, actor: string): Promise<Device> {
    const d = await this.get(id);
    if (d.state === 'decommissioned') throw new PkiError('DEVICE_STATE_INVALID', 'a decommissioned device cannot be assigned', { details: { id } });
    const now = this.#clock.nowMs();
    await this.#db.updateTable('device').set({ tenant_id: tenantId, site_id: siteId, updated_at: now }).where('id', '=', id).execute();
    await this.#audit.append({ actor, action: 'device.assigned', target: `device:${id}`, tenantId, details: { fromTenant: d.tenantId, toTenant: tenantId, siteId } });
    // The claim is what authorises onboarding (docs/device-lifecycle.md).
    if (d.state === 'manufactured') return this.transition(id, 'provisioned', actor, { onlyFrom: 'manufactured' });
    return { ...d, tenantId, siteId, updatedAt: now };
  }
}

function toDevice(r: DeviceTable): Device {
  return {
    id: r.id, serial: r.serial, model: r.model, hardwareRevision: r.hardware_revision, tenantId: r.tenant_id, siteId: r.site_id,
    state: r.state, firmwareVersion: r.firmware_version, batchId: r.batch_id, createdAt: r.created_at, updatedAt: r.updated_at,
  };
}
