import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Clock, newId, systemClock } from '@medtrust/core';
import type { Kysely } from 'kysely';
import type { AuditLog } from '../../audit/index.ts';
import type { Database } from '../../db/index.ts';
import type { Job } from '../../jobs/index.ts';
import { UpdateError } from '../errors.ts';
import type { CampaignDeviceTable, CampaignTable } from '../tables.ts';
import { inWindow, isWindow, type MaintenanceWindow } from './maintenance-window.ts';

export type DeviceUpdateStatus = CampaignDeviceTable['status'];

export interface CampaignSelection {
  readonly model: string;
  readonly siteIds?: readonly string[];
  readonly currentFirmware?: string;
}

export interface CreateCampaignInput {
  readonly releaseId: string;
  readonly name: string;
  readonly selection: CampaignSelection;
  /** Cumulative percentages of the selection, increasing, ending at 100. */
  readonly phases?: readonly number[];
  readonly successThreshold?: number;
  readonly failureThreshold?: number;
  readonly maintenanceWindow?: MaintenanceWindow | null;
  readonly emergency?: boolean;
  readonly actor: string;
}

/** What a device should do now for its campaigns. */
export type DesiredState =
  | { readonly kind: 'none' }
  | { readonly kind: 'wait'; readonly campaignId: string; readonly reason: 'phase' | 'maintenance-window' | 'paused' }
  | { readonly kind: 'install'; readonly campaignId: string; readonly releaseId: string; readonly version: string; readonly target: string; readonly emergency: boolean };

export interface CampaignView {
  readonly id: string;
  readonly releaseId: string;
  readonly name: string;
  readonly state: CampaignTable['state'];
  readonly emergency: boolean;
  readonly phases: readonly number[];
  readonly currentPhase: number;
  readonly pausedReason: string | null;
  readonly counts: Readonly<Record<DeviceUpdateStatus, number>>;
}

const FINAL: ReadonlySet<DeviceUpdateStatus> = new Set(['installed', 'failed', 'rolled-back']);

/**
 * Phased rollouts. Devices are placed in phases by a hash of (campaign, device), so phases are
 * stable and unbiased. A device pulls its desired state (so an offline device gets it when it
 * returns) and reports status; after every report and on a timer the open phases are counted:
 * failures at the threshold pause the campaign, successes at the threshold open the next phase.
 * The clinical safety gate is the device's: it reports `pending` with `therapy-running`, which
 * counts neither way, and no flag (emergency included) makes the platform override it.
 */
export class CampaignService {
  readonly #db: Kysely<Database>;
  readonly #audit: AuditLog;
  readonly #clock: Clock;
  readonly #evaluations = new Map<string, { again: boolean }>();
  readonly #minIntervalMs: number;

  constructor(opts: { db: Kysely<Database>; audit: AuditLog; clock?: Clock; minEvaluationIntervalMs?: number }) {
    this.#minIntervalMs = opts.minEvaluationIntervalMs ?? 200;
    this.#db = opts.db;
    this.#audit = opts.audit;
    this.#clock = opts.clock ?? systemClock;
  }

  async create(input: CreateCampaignInput): Promise<CampaignView> {
    const phases = input.emergency ? [100] : [...(input.phases ?? [1, 10, 50, 100])];
    const success = input.successThreshold ?? 0.95;
    const failure = input.failureThreshold ?? 0.05;
    const window = input.maintenanceWindow ?? null;
    const bad = (why: string): UpdateError => new UpdateError('CAMPAIGN_INVALID', why);
    if (phases.length === 0 || phases.length > 10 || phases.some((p, i) => !Number.isFinite(p) || p <= 0 || p > 100 || (i > 0 && p <= phases[i - 1]!)) || phases.at(-1) !== 100) throw bad('phases must increase and end at 100');
    if (!(success > 0 && success <= 1) || !(failure > 0 && failure <= 1)) throw bad('thresholds must be in (0, 1]');
    if (window !== null && !isWindow(window)) throw bad('maintenance window hours must be 0-23 and differ');
    if (!input.name || input.name.length > 200) throw bad('name: 1 to 200 characters');
    const release = await this.#db.selectFrom('release').select(['id', 'state', 'version']).where('id', '=', input.releaseId).executeTakeFirst();
    if (!release) throw new UpdateError('RELEASE_NOT_FOUND', 'no such release');
    if (release.state !== 'published') throw bad('the release is not published');
    const fits = await this.#db.selectFrom('release_model').select('model').where('release_id', '=', release.id).where('model', '=', input.selection.model).executeTakeFirst();
    if (!fits) throw bad('the release does not fit the selected model');
    let q = this.#db.selectFrom('device').select(['id', 'site_id']).where('model', '=', input.selection.model).where('state', 'in', ['enrolled', 'active']);
    if (input.selection.siteIds?.length) q = q.where('site_id', 'in', [...input.selection.siteIds]);
    if (input.selection.currentFirmware !== undefined) q = q.where('firmware_version', '=', input.selection.currentFirmware);
    const devices = await q.execute();
    const id = newId('cmp');
    const now = this.#clock.nowMs();
    // Stable, unbiased order: hash of (campaign, device); phase i takes up to phases[i]% of them.
    const ordered = devices.map((d) => ({ ...d, h: createHash('sha256').update(`${id}:${d.id}`).digest('hex') })).sort((a, b) => a.h.localeCompare(b.h));
    const phaseOf = (i: number): number => phases.findIndex((p) => i < Math.ceil((p / 100) * ordered.length));
    await this.#db.transaction().execute(async (trx) => {
      await trx.insertInto('campaign').values({
        id, release_id: release.id, name: input.name, state: 'running', emergency: input.emergency ? 1 : 0, phases: JSON.stringify(phases), current_phase: 0,
        success_threshold: success, failure_threshold: failure, maintenance_window: window ? JSON.stringify(window) : null,
        selection: JSON.stringify(input.selection), paused_reason: null, created_at: now, created_by: input.actor, updated_at: now,
      }).execute();
      const rows = ordered.map((d, i) => ({ campaign_id: id, device_id: d.id, site_id: d.site_id, phase: phaseOf(i), status: 'pending' as const, detail: null, updated_at: now }));
      for (let i = 0; i < rows.length; i += 200) await trx.insertInto('campaign_device').values(rows.slice(i, i + 200)).execute();
    });
    await this.#audit.append({ actor: input.actor, action: 'campaign.created', target: `campaign:${id}`, details: { releaseId: release.id, version: release.version, devices: devices.length, phases, emergency: input.emergency === true, maintenanceWindow: window } });
    return this.get(id);
  }

  async get(id: string): Promise<CampaignView> {
    const c = await this.#db.selectFrom('campaign').selectAll().where('id', '=', id).executeTakeFirst();
    if (!c) throw new UpdateError('CAMPAIGN_NOT_FOUND', 'no such campaign');
    const rows = await this.#db.selectFrom('campaign_device').select(['status']).where('campaign_id', '=', id).execute();
    const counts: Record<DeviceUpdateStatus, number> = { 'pending': 0, 'downloading': 0, 'installing': 0, 'installed': 0, 'failed': 0, 'rolled-back': 0 };
    for (const r of rows) counts[r.status] += 1;
    return { id: c.id, releaseId: c.release_id, name: c.name, state: c.state, emergency: c.emergency === 1, phases: JSON.parse(c.phases) as number[], currentPhase: Number(c.current_phase), pausedReason: c.paused_reason, counts };
  }

  /** Campaigns newest first, one page (`before`: the last id of the previous page), counts by one grouped query. */
  async list(opts: { limit: number; before?: string }): Promise<{ campaigns: Array<CampaignView & { createdAt: string; createdBy: string }>; next: string | null }> {
    let q = this.#db.selectFrom('campaign').selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(opts.limit);
    if (opts.before !== undefined) {
      const cursor = await this.#db.selectFrom('campaign').select(['created_at', 'id']).where('id', '=', opts.before).executeTakeFirst();
      if (!cursor) throw new UpdateError('CAMPAIGN_NOT_FOUND', 'no such campaign (before)');
      q = q.where((eb) => eb.or([eb('created_at', '<', cursor.created_at), eb.and([eb('created_at', '=', cursor.created_at), eb('id', '<', cursor.id)])]));
    }
    const rows = await q.execute();
    const tallies = rows.length === 0 ? [] : await this.#db.selectFrom('campaign_device').select(['campaign_id', 'status', (eb) => eb.fn.countAll<number | string>().as('n')])
      .where('campaign_id', 'in', rows.map((r) => r.id)).groupBy(['campaign_id', 'status']).execute();
    const campaigns = rows.map((c) => {
      const counts: Record<DeviceUpdateStatus, number> = { 'pending': 0, 'downloading': 0, 'installing': 0, 'installed': 0, 'failed': 0, 'rolled-back': 0 };
      for (const t of tallies) if (t.campaign_id === c.id) counts[t.status] = Number(t.n);
      return { id: c.id, releaseId: c.release_id, name: c.name, state: c.state, emergency: c.emergency === 1, phases: JSON.parse(c.phases) as number[], currentPhase: Number(c.current_phase), pausedReason: c.paused_reason, counts, createdAt: new Date(Number(c.created_at)).toISOString(), createdBy: c.created_by };
    });
    return { campaigns, next: rows.length === opts.limit ? rows.at(-1)!.id : null };
  }

  /** What the device should install now; pulled by the device, so offline devices catch up on return. */
  async desiredFor(deviceId: string): Promise<DesiredState> {
    const rows = await this.#db.selectFrom('campaign_device').innerJoin('campaign', 'campaign.id', 'campaign_device.campaign_id').innerJoin('release', 'release.id', 'campaign.release_id')
      .leftJoin('tenant', 'tenant.id', 'campaign_device.site_id')
      .select(['campaign.id as campaignId', 'campaign.state', 'campaign.emergency', 'campaign.current_phase', 'campaign.maintenance_window', 'campaign_device.phase', 'campaign_device.status', 'release.id as releaseId', 'release.version', 'release.file_name', 'tenant.time_zone', 'campaign.created_at'])
      .where('campaign_device.device_id', '=', deviceId).where('campaign.state', 'in', ['running', 'paused']).orderBy('campaign.emergency', 'desc').orderBy('campaign.created_at', 'desc').execute();
    const open = rows.find((r) => !FINAL.has(r.status));
    if (!open) return { kind: 'none' };
    if (open.state === 'paused') return { kind: 'wait', campaignId: open.campaignId, reason: 'paused' };
    if (open.phase > Number(open.current_phase)) return { kind: 'wait', campaignId: open.campaignId, reason: 'phase' };
    const window = open.maintenance_window ? (JSON.parse(open.maintenance_window) as MaintenanceWindow) : null;
    // Emergency campaigns skip maintenance windows; the device's clinical gate still applies.
    if (window && open.emergency !== 1 && !inWindow(window, this.#clock.nowMs(), open.time_zone)) return { kind: 'wait', campaignId: open.campaignId, reason: 'maintenance-window' };
    const model = await this.#db.selectFrom('device').select('model').where('id', '=', deviceId).executeTakeFirstOrThrow();
    return { kind: 'install', campaignId: open.campaignId, releaseId: open.releaseId, version: open.version, target: `${model.model}/${open.version}/${open.file_name}`, emergency: open.emergency === 1 };
  }

  /**
   * Records a device's status (from MQTT via the gateway) and re-evaluates the campaign. Status
   * reports are device facts, not platform decisions: the decisions they cause are audited.
   */
  async report(campaignId: string, deviceId: string, status: DeviceUpdateStatus, detail: string | null = null): Promise<void> {
    const r = await this.#db.updateTable('campaign_device').set({ status, detail: detail?.slice(0, 100) ?? null, updated_at: this.#clock.nowMs() })
      .where('campaign_id', '=', campaignId).where('device_id', '=', deviceId).executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) throw new UpdateError('CAMPAIGN_NOT_FOUND', 'the device is not in this campaign');
    await this.#requestEvaluation(campaignId);
  }

  /**
   * With `minEvaluationIntervalMs` 0 the report waits for the evaluation (tests, small fleets).
   * Otherwise evaluations of a campaign run in the background at most once per interval, and the
   * reports that arrive meanwhile ride along: at 10,000 devices a count per report would cost
   * O(n) each, while the issue only asks for a decision within a second of the threshold.
   */
  async #requestEvaluation(campaignId: string): Promise<void> {
    if (this.#minIntervalMs === 0) {
      await this.evaluate(campaignId);
      return;
    }
    const pending = this.#evaluations.get(campaignId);
    if (pending) {
      pending.again = true;
      return;
    }
    const entry = { again: true };
    this.#evaluations.set(campaignId, entry);
    void (async () => {
      try {
        while (entry.again) {
          entry.again = false;
          await sleep(this.#minIntervalMs);
          await this.evaluate(campaignId);
        }
      } catch {
        // The campaign-evaluate job runs every second and will try again.
      } finally {
        this.#evaluations.delete(campaignId);
      }
    })();
  }

  /** Counts the open phases: pauses at the failure threshold, opens the next phase at the success threshold. */
  async evaluate(campaignId: string): Promise<CampaignTable['state']> {
    const c = await this.#db.selectFrom('campaign').selectAll().where('id', '=', campaignId).executeTakeFirstOrThrow();
    if (c.state !== 'running') return c.state;
    const phases = JSON.parse(c.phases) as number[];
    let current = Number(c.current_phase);
    for (;;) {
      const counts = await this.#db.selectFrom('campaign_device').select(['status', (eb) => eb.fn.countAll<number>().as('n')])
        .where('campaign_id', '=', campaignId).where('phase', '<=', current).groupBy('status').execute();
      const n = (st: DeviceUpdateStatus): number => Number(counts.find((c) => c.status === st)?.n ?? 0);
      const total = counts.reduce((a, c) => a + Number(c.n), 0);
      const failed = n('failed') + n('rolled-back');
      const installed = n('installed');
      const now = this.#clock.nowMs();
      if (total > 0 && failed / total >= c.failure_threshold) {
        const reason = `failures ${failed}/${total} reached ${c.failure_threshold}`;
        await this.#db.updateTable('campaign').set({ state: 'paused', paused_reason: reason, current_phase: current, updated_at: now }).where('id', '=', campaignId).where('state', '=', 'running').execute();
        await this.#audit.append({ actor: 'system', action: 'campaign.paused', target: `campaign:${campaignId}`, outcome: 'failure', details: { phase: current, failed, total, emergency: c.emergency === 1 } });
        return 'paused';
      }
      if (total > 0 && installed / total < c.success_threshold) break;
      if (current >= phases.length - 1) {
        if (installed === total) {
          await this.#db.updateTable('campaign').set({ state: 'completed', current_phase: current, updated_at: now }).where('id', '=', campaignId).execute();
          await this.#audit.append({ actor: 'system', action: 'campaign.completed', target: `campaign:${campaignId}`, details: { installed, total } });
          return 'completed';
        }
        break;
      }
      current += 1;
      await this.#db.updateTable('campaign').set({ current_phase: current, updated_at: now }).where('id', '=', campaignId).execute();
      await this.#audit.append({ actor: 'system', action: 'campaign.phase-opened', target: `campaign:${campaignId}`, details: { phase: current, percent: phases[current], installed, total } });
    }
    return 'running';
  }

  async resume(campaignId: string, actor: string): Promise<CampaignView> {
    const r = await this.#db.updateTable('campaign').set({ state: 'running', paused_reason: null, updated_at: this.#clock.nowMs() }).where('id', '=', campaignId).where('state', '=', 'paused').executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) {
      await this.get(campaignId);
      throw new UpdateError('CAMPAIGN_STATE_INVALID', 'only a paused campaign can be resumed');
    }
    await this.#audit.append({ actor, action: 'campaign.resumed', target: `campaign:${campaignId}` });
    return this.get(campaignId);
  }

  /** Re-evaluates running campaigns (a safety net for reports that arrived on other nodes). */
  job(intervalMs = 1000): Job {
    return {
      name: 'campaign-evaluate', intervalMs,
      run: async () => {
        const running = await this.#db.selectFrom('campaign').select('id').where('state', '=', 'running').execute();
        for (const c of running) await this.evaluate(c.id);
      },
    };
  }
}
