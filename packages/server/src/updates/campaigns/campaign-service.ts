import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Clock, newId, systemClock } from '@medtrust/core';
import type { Kysely } from 'kysely';
import type { AuditLog } from '../../audit/index.ts';
import { type Database, withPrepareMark } from '../../db/index.ts';
import type { Job } from '../../jobs/index.ts';
import { UpdateError } from '../errors.ts';
import type { CampaignDeviceTable, CampaignTable } from '../tables.ts';
import { inWindow, isWindow, type MaintenanceWindow } from './maintenance-window.ts';

export type DeviceUpdateStatus = CampaignDeviceTable['status'];

export interface CampaignSelection {
  readonly model: string;
  readonly siteIds?: readonly string[];
  readonly currentFirmware?: string;
  /** Devices carrying every one of these tags (set by their tenant, `PUT /api/v1/devices/{id}/tags`). */
  readonly tags?: readonly string[];
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
  /** Each next phase waits for `approve` by a release manager (after the success threshold). */
  readonly requiresApproval?: boolean;
  readonly actor: string;
}

/** What a device should do now for its campaigns. */
export type DesiredState =
  | { readonly kind: 'none' }
  | { readonly kind: 'wait'; readonly campaignId: string; readonly reason: 'phase' | 'maintenance-window' | 'paused' | 'approval' }
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
  readonly requiresApproval: boolean;
  readonly counts: Readonly<Record<DeviceUpdateStatus, number>>;
  /** Of `counts.pending`: devices that reported a running therapy (the clinical safety gate). */
  readonly deferredForTherapy: number;
}

/** Which devices' desired state changed: those of phases up to `throughPhase` not yet done. */
export type DesiredChangeListener = (campaignId: string, throughPhase: number) => void;

/** Placeholder for the device id in the precompiled desired-state query (NUL characters: no device id has them). */
const DEVICE_PARAM = '\u0000device id\u0000';

/**
 * The device's half of an update check, compiled once per service: an update check is the
 * platform's most frequent read (every device on every (re)connect and HTTPS poll), and building
 * the query through the query builder cost more than running it. Only the device's unfinished
 * campaign rows (an index on device_id) with its model and its site's time zone (primary keys);
 * the campaigns themselves come from `#openCampaigns`. `DEVICE_PARAM` marks where the device id goes.
 */
function deviceCampaignsQuery(db: Kysely<Database>) {
  return db.selectFrom('campaign_device').innerJoin('device', 'device.id', 'campaign_device.device_id').leftJoin('tenant', 'tenant.id', 'campaign_device.site_id')
    .select(['campaign_device.campaign_id', 'campaign_device.phase', 'device.model', 'tenant.time_zone'])
    .where('campaign_device.device_id', '=', DEVICE_PARAM).where('campaign_device.status', 'not in', ['installed', 'failed', 'rolled-back']).compile();
}
type DeviceCampaignsQuery = ReturnType<typeof deviceCampaignsQuery>;

/** A running, paused or awaiting-approval campaign with what an update check needs of it. */
interface OpenCampaign {
  readonly id: string;
  readonly state: CampaignTable['state'];
  readonly emergency: boolean;
  readonly currentPhase: number;
  readonly window: MaintenanceWindow | null;
  readonly releaseId: string;
  readonly version: string;
  readonly fileName: string;
  readonly createdAt: number;
}

/**
 * How old the open-campaign list may be before an update check reloads it. This node's own
 * changes replace it at once; this bounds how late a change made on another node (PostgreSQL
 * scale-out: a pause, an opened phase, a new campaign) reaches this node's answers.
 */
export const OPEN_CAMPAIGNS_MAX_AGE_MS = 1000;

const FINAL: ReadonlySet<DeviceUpdateStatus> = new Set(['installed', 'failed', 'rolled-back']);

/** The detail a device sends with `pending` while therapy runs (the clinical safety gate). */
export const THERAPY_RUNNING = 'therapy-running';

const TAG_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

/** A device tag: 1-64 of A-Z a-z 0-9 . _ : - (starting with a letter or digit). */
export function isTag(t: unknown): t is string {
  return typeof t === 'string' && TAG_RE.test(t);
}

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
  readonly #listeners: DesiredChangeListener[] = [];

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
    const tags = input.selection.tags ?? [];
    if (tags.length > 10 || tags.some((t) => !isTag(t))) throw bad('selection.tags: up to 10 tags of 1-64 of A-Z a-z 0-9 . _ : -');
    const release = await this.#db.selectFrom('release').select(['id', 'state', 'version']).where('id', '=', input.releaseId).executeTakeFirst();
    if (!release) throw new UpdateError('RELEASE_NOT_FOUND', 'no such release');
    if (release.state !== 'published') throw bad('the release is not published');
    const fits = await this.#db.selectFrom('release_model').select('model').where('release_id', '=', release.id).where('model', '=', input.selection.model).executeTakeFirst();
    if (!fits) throw bad('the release does not fit the selected model');
    let q = this.#db.selectFrom('device').select(['id', 'site_id']).where('model', '=', input.selection.model).where('state', 'in', ['enrolled', 'active']);
    if (input.selection.siteIds?.length) q = q.where('site_id', 'in', [...input.selection.siteIds]);
    if (input.selection.currentFirmware !== undefined) q = q.where('firmware_version', '=', input.selection.currentFirmware);
    for (const tag of tags) q = q.where('id', 'in', (eb) => eb.selectFrom('device_tag').select('device_tag.device_id').where('device_tag.tag', '=', tag));
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
        selection: JSON.stringify(input.selection), paused_reason: null, created_at: now, created_by: input.actor, updated_at: now, requires_approval: input.requiresApproval ? 1 : 0,
      }).execute();
      const rows = ordered.map((d, i) => ({ campaign_id: id, device_id: d.id, site_id: d.site_id, phase: phaseOf(i), status: 'pending' as const, detail: null, updated_at: now }));
      for (let i = 0; i < rows.length; i += 200) await trx.insertInto('campaign_device').values(rows.slice(i, i + 200)).execute();
    });
    this.#campaignsChanged();
    await this.#audit.append({ actor: input.actor, action: 'campaign.created', target: `campaign:${id}`, details: { releaseId: release.id, version: release.version, devices: devices.length, phases, emergency: input.emergency === true, maintenanceWindow: window, requiresApproval: input.requiresApproval === true, tags } });
    this.#changed(id, 0);
    return this.get(id);
  }

  async get(id: string): Promise<CampaignView> {
    const c = await this.#db.selectFrom('campaign').selectAll().where('id', '=', id).executeTakeFirst();
    if (!c) throw new UpdateError('CAMPAIGN_NOT_FOUND', 'no such campaign');
    const rows = await this.#db.selectFrom('campaign_device').select(['status', 'detail', (eb) => eb.fn.countAll<number | string>().as('n')]).where('campaign_id', '=', id).groupBy(['status', 'detail']).execute();
    const counts: Record<DeviceUpdateStatus, number> = { 'pending': 0, 'downloading': 0, 'installing': 0, 'installed': 0, 'failed': 0, 'rolled-back': 0 };
    let deferredForTherapy = 0;
    for (const r of rows) {
      counts[r.status] += Number(r.n);
      if (r.status === 'pending' && r.detail === THERAPY_RUNNING) deferredForTherapy += Number(r.n);
    }
    return { id: c.id, releaseId: c.release_id, name: c.name, state: c.state, emergency: c.emergency === 1, phases: JSON.parse(c.phases) as number[], currentPhase: Number(c.current_phase), pausedReason: c.paused_reason, requiresApproval: Number(c.requires_approval) === 1, counts, deferredForTherapy };
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
    const tallies = rows.length === 0 ? [] : await this.#db.selectFrom('campaign_device').select(['campaign_id', 'status', 'detail', (eb) => eb.fn.countAll<number | string>().as('n')])
      .where('campaign_id', 'in', rows.map((r) => r.id)).groupBy(['campaign_id', 'status', 'detail']).execute();
    const campaigns = rows.map((c) => {
      const counts: Record<DeviceUpdateStatus, number> = { 'pending': 0, 'downloading': 0, 'installing': 0, 'installed': 0, 'failed': 0, 'rolled-back': 0 };
      let deferredForTherapy = 0;
      for (const t of tallies) {
        if (t.campaign_id !== c.id) continue;
        counts[t.status] += Number(t.n);
        if (t.status === 'pending' && t.detail === THERAPY_RUNNING) deferredForTherapy += Number(t.n);
      }
      return { id: c.id, releaseId: c.release_id, name: c.name, state: c.state, emergency: c.emergency === 1, phases: JSON.parse(c.phases) as number[], currentPhase: Number(c.current_phase), pausedReason: c.paused_reason, requiresApproval: Number(c.requires_approval) === 1, counts, deferredForTherapy, createdAt: new Date(Number(c.created_at)).toISOString(), createdBy: c.created_by };
    });
    return { campaigns, next: rows.length === opts.limit ? rows.at(-1)!.id : null };
  }

  /** The device's half of an update check, compiled on first use (`deviceCampaignsQuery`). */
  #deviceQuery: DeviceCampaignsQuery | undefined;
  /** The open campaigns, shared by every update check until a change here or `OPEN_CAMPAIGNS_MAX_AGE_MS`. */
  #open: { readonly loadedAt: number; readonly campaigns: Promise<ReadonlyMap<string, OpenCampaign>> } | undefined;

  /**
   * What the device should install now; pulled by the device, so offline devices catch up on
   * return. The campaign side is the same for every device and changes rarely, so it is read once
   * for all checks (`#openCampaigns`); per device, one indexed read of its unfinished rows, and
   * none at all while no campaign is open.
   */
  async desiredFor(deviceId: string): Promise<DesiredState> {
    const campaigns = await this.#openCampaigns();
    if (campaigns.size === 0) return { kind: 'none' };
    const q = (this.#deviceQuery ??= deviceCampaignsQuery(this.#db));
    const query: DeviceCampaignsQuery = { ...q, sql: withPrepareMark(q.sql), parameters: q.parameters.map((p) => (p === DEVICE_PARAM ? deviceId : p)) };
    const { rows } = await this.#db.executeQuery(query);
    // Of the device's unfinished rows in open campaigns: emergencies first, then the newest.
    let open: OpenCampaign | undefined;
    let row: (typeof rows)[number] | undefined;
    for (const r of rows) {
      const c = campaigns.get(r.campaign_id);
      if (!c) continue;
      if (!open || (c.emergency !== open.emergency ? c.emergency : c.createdAt > open.createdAt)) {
        open = c;
        row = r;
      }
    }
    if (!open || !row) return { kind: 'none' };
    if (open.state === 'paused') return { kind: 'wait', campaignId: open.id, reason: 'paused' };
    if (row.phase > open.currentPhase) return { kind: 'wait', campaignId: open.id, reason: open.state === 'awaiting-approval' ? 'approval' : 'phase' };
    // Emergency campaigns skip maintenance windows; the device's clinical gate still applies.
    if (open.window && !open.emergency && !inWindow(open.window, this.#clock.nowMs(), row.time_zone)) return { kind: 'wait', campaignId: open.id, reason: 'maintenance-window' };
    return { kind: 'install', campaignId: open.id, releaseId: open.releaseId, version: open.version, target: `${row.model}/${open.version}/${open.fileName}`, emergency: open.emergency };
  }

  /** Running, paused and awaiting-approval campaigns by id; one load shared by concurrent checks. */
  #openCampaigns(): Promise<ReadonlyMap<string, OpenCampaign>> {
    // Monotonic time, not the service clock: this is a cache's age, not a business time.
    const now = performance.now();
    if (this.#open && now - this.#open.loadedAt < OPEN_CAMPAIGNS_MAX_AGE_MS) return this.#open.campaigns;
    const loading = { loadedAt: now, campaigns: this.#loadOpenCampaigns() };
    this.#open = loading;
    // A failed load is not kept: the next check tries again (and this one gets the error).
    loading.campaigns.catch(() => {
      if (this.#open === loading) this.#open = undefined;
    });
    return loading.campaigns;
  }

  async #loadOpenCampaigns(): Promise<ReadonlyMap<string, OpenCampaign>> {
    const rows = await this.#db.selectFrom('campaign').innerJoin('release', 'release.id', 'campaign.release_id')
      .select(['campaign.id', 'campaign.state', 'campaign.emergency', 'campaign.current_phase', 'campaign.maintenance_window', 'campaign.created_at', 'release.id as releaseId', 'release.version', 'release.file_name'])
      .where('campaign.state', 'in', ['running', 'paused', 'awaiting-approval']).execute();
    return new Map(rows.map((c) => [c.id, {
      id: c.id, state: c.state, emergency: c.emergency === 1, currentPhase: Number(c.current_phase), window: c.maintenance_window ? (JSON.parse(c.maintenance_window) as MaintenanceWindow) : null,
      releaseId: c.releaseId, version: c.version, fileName: c.file_name, createdAt: Number(c.created_at),
    }]));
  }

  /** A campaign row changed on this node: the next update check reads the open campaigns again. */
  #campaignsChanged(): void {
    this.#open = undefined;
  }

  /**
   * Records a device's status (from MQTT via the gateway) and re-evaluates the campaign. Status
   * reports are device facts, not platform decisions: the decisions they cause are audited.
   * Returns false when the report repeats the recorded status and detail: QoS 1 redelivers, and a
   * device whose report went unacknowledged sends it again. A repeat changes nothing, not even
   * the time of the status.
   */
  async report(campaignId: string, deviceId: string, status: DeviceUpdateStatus, detail: string | null = null): Promise<boolean> {
    const d = detail?.slice(0, 100) ?? null;
    const r = await this.#db.updateTable('campaign_device').set({ status, detail: d, updated_at: this.#clock.nowMs() })
      .where('campaign_id', '=', campaignId).where('device_id', '=', deviceId)
      .where((eb) => eb.or([eb('status', '!=', status), d === null ? eb('detail', 'is not', null) : eb.or([eb('detail', 'is', null), eb('detail', '!=', d)])]))
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 1) {
      await this.#requestEvaluation(campaignId);
      return true;
    }
    const known = await this.#db.selectFrom('campaign_device').select('status').where('campaign_id', '=', campaignId).where('device_id', '=', deviceId).executeTakeFirst();
    if (!known) throw new UpdateError('CAMPAIGN_NOT_FOUND', 'the device is not in this campaign');
    return false;
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
    // A campaign awaiting approval still pauses on failures in its open phases; it only does not advance.
    if (c.state !== 'running' && c.state !== 'awaiting-approval') return c.state;
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
        await this.#db.updateTable('campaign').set({ state: 'paused', paused_reason: reason, current_phase: current, updated_at: now }).where('id', '=', campaignId).where('state', 'in', ['running', 'awaiting-approval']).execute();
        this.#campaignsChanged();
        await this.#audit.append({ actor: 'system', action: 'campaign.paused', target: `campaign:${campaignId}`, outcome: 'failure', details: { phase: current, failed, total, emergency: c.emergency === 1 } });
        this.#changed(campaignId, current);
        return 'paused';
      }
      if (total > 0 && installed / total < c.success_threshold) break;
      if (c.state === 'awaiting-approval') return c.state;
      if (current >= phases.length - 1) {
        if (installed === total) {
          await this.#db.updateTable('campaign').set({ state: 'completed', current_phase: current, updated_at: now }).where('id', '=', campaignId).execute();
          this.#campaignsChanged();
          await this.#audit.append({ actor: 'system', action: 'campaign.completed', target: `campaign:${campaignId}`, details: { installed, total } });
          return 'completed';
        }
        break;
      }
      if (Number(c.requires_approval) === 1) {
        // Manual approval between phases: the threshold is met, a person decides (approve()).
        const r = await this.#db.updateTable('campaign').set({ state: 'awaiting-approval', current_phase: current, updated_at: now }).where('id', '=', campaignId).where('state', '=', 'running').executeTakeFirst();
        this.#campaignsChanged();
        if (Number(r.numUpdatedRows) === 1) await this.#audit.append({ actor: 'system', action: 'campaign.approval-requested', target: `campaign:${campaignId}`, details: { nextPhase: current + 1, percent: phases[current + 1], installed, total } });
        return 'awaiting-approval';
      }
      current += 1;
      await this.#db.updateTable('campaign').set({ current_phase: current, updated_at: now }).where('id', '=', campaignId).execute();
      this.#campaignsChanged();
      await this.#audit.append({ actor: 'system', action: 'campaign.phase-opened', target: `campaign:${campaignId}`, details: { phase: current, percent: phases[current], installed, total } });
      this.#changed(campaignId, current);
    }
    return 'running';
  }

  /** Opens the next phase of a campaign awaiting approval; audited with the approver. */
  async approve(campaignId: string, actor: string): Promise<CampaignView> {
    const c = await this.#db.selectFrom('campaign').select(['state', 'current_phase', 'phases']).where('id', '=', campaignId).executeTakeFirst();
    if (!c) throw new UpdateError('CAMPAIGN_NOT_FOUND', 'no such campaign');
    const next = Number(c.current_phase) + 1;
    const r = await this.#db.updateTable('campaign').set({ state: 'running', current_phase: next, updated_at: this.#clock.nowMs() })
      .where('id', '=', campaignId).where('state', '=', 'awaiting-approval').where('current_phase', '=', Number(c.current_phase)).executeTakeFirst();
    this.#campaignsChanged();
    if (Number(r.numUpdatedRows) !== 1) {
      await this.#audit.append({ actor, action: 'campaign.phase-approved', target: `campaign:${campaignId}`, outcome: 'denied', details: { code: 'CAMPAIGN_STATE_INVALID', state: c.state } });
      throw new UpdateError('CAMPAIGN_STATE_INVALID', 'only a campaign awaiting approval can be approved');
    }
    await this.#audit.append({ actor, action: 'campaign.phase-approved', target: `campaign:${campaignId}`, details: { phase: next, percent: (JSON.parse(c.phases) as number[])[next] } });
    this.#changed(campaignId, next);
    await this.#requestEvaluation(campaignId);
    return this.get(campaignId);
  }

  /** The version a campaign rolls out. */
  async releaseVersionOf(campaignId: string): Promise<string> {
    const r = await this.#db.selectFrom('campaign').innerJoin('release', 'release.id', 'campaign.release_id').select('release.version').where('campaign.id', '=', campaignId).executeTakeFirst();
    if (!r) throw new UpdateError('CAMPAIGN_NOT_FOUND', 'no such campaign');
    return r.version;
  }

  /** Called with the campaign and the phases whose devices' desired state changed. */
  onDesiredChange(listener: DesiredChangeListener): void {
    this.#listeners.push(listener);
  }

  #changed(campaignId: string, throughPhase: number): void {
    for (const l of this.#listeners) l(campaignId, throughPhase);
  }

  /** Devices of phases up to `throughPhase` that have not finished: whose desired state to re-send. */
  async unfinishedDevices(campaignId: string, throughPhase: number): Promise<string[]> {
    const rows = await this.#db.selectFrom('campaign_device').select('device_id').where('campaign_id', '=', campaignId).where('phase', '<=', throughPhase)
      .where('status', 'not in', [...FINAL]).execute();
    return rows.map((r) => r.device_id);
  }

  async resume(campaignId: string, actor: string): Promise<CampaignView> {
    const r = await this.#db.updateTable('campaign').set({ state: 'running', paused_reason: null, updated_at: this.#clock.nowMs() }).where('id', '=', campaignId).where('state', '=', 'paused').executeTakeFirst();
    this.#campaignsChanged();
    if (Number(r.numUpdatedRows) !== 1) {
      await this.get(campaignId);
      throw new UpdateError('CAMPAIGN_STATE_INVALID', 'only a paused campaign can be resumed');
    }
    await this.#audit.append({ actor, action: 'campaign.resumed', target: `campaign:${campaignId}` });
    const c = await this.get(campaignId);
    this.#changed(campaignId, c.currentPhase);
    return c;
  }

  /**
   * Cancels the open campaigns (running, paused, awaiting approval) of a withdrawn release: their
   * devices are told their new desired state at once (pushed over MQTT, answered on the next
   * HTTPS poll), audited `campaign.cancelled` per campaign. Returns the cancelled campaigns' ids.
   */
  async cancelForRelease(releaseId: string, actor: string): Promise<string[]> {
    const open = await this.#db.selectFrom('campaign').select(['id', 'phases']).where('release_id', '=', releaseId).where('state', 'in', ['running', 'paused', 'awaiting-approval']).execute();
    const cancelled: string[] = [];
    for (const c of open) {
      const r = await this.#db.updateTable('campaign').set({ state: 'cancelled', paused_reason: null, updated_at: this.#clock.nowMs() })
        .where('id', '=', c.id).where('state', 'in', ['running', 'paused', 'awaiting-approval']).executeTakeFirst();
      this.#campaignsChanged();
      if (Number(r.numUpdatedRows) !== 1) continue;
      cancelled.push(c.id);
      await this.#audit.append({ actor, action: 'campaign.cancelled', target: `campaign:${c.id}`, details: { reason: 'release-withdrawn', releaseId } });
      this.#changed(c.id, (JSON.parse(c.phases) as number[]).length - 1);
    }
    return cancelled;
  }

  /** Re-evaluates running campaigns (a safety net for reports that arrived on other nodes). */
  job(intervalMs = 1000): Job {
    return {
      name: 'campaign-evaluate', intervalMs,
      run: async () => {
        const running = await this.#db.selectFrom('campaign').select('id').where('state', 'in', ['running', 'awaiting-approval']).execute();
        for (const c of running) await this.evaluate(c.id);
      },
    };
  }
}
