import { type Clock, newId, systemClock } from '@medtrust/core';
import type { Kysely } from 'kysely';
import type { AuditLog } from '../../audit/index.ts';
import type { Database } from '../../db/index.ts';
import type { EventBus } from '../../events/index.ts';
import { ClinicalError } from '../errors.ts';
import type { AlertRule, DeviceAlarm, SecurityEventKind, VitalMetric } from './alert-rule.ts';
import type { AlertRuleStore } from './alert-rule-store.ts';
import { ThresholdTracker } from './threshold-tracker.ts';

export interface VitalObservation {
  readonly tenantId: string;
  readonly deviceId: string;
  readonly patientId: string | null;
  readonly careArea: string | null;
  readonly metric: VitalMetric;
  readonly value: number;
  /** Device timestamp (alerts are computed on the original time, also for late replays). */
  readonly atMs: number;
  readonly receivedAtMs: number;
}

export type AlertChange = 'raised' | 'repeated' | 'acknowledged' | 'resolved' | 'condition-cleared' | 'escalated';

export interface AlertView {
  readonly id: string;
  readonly tenantId: string;
  readonly ruleId: string;
  readonly deviceId: string | null;
  readonly patientId: string | null;
  readonly priority: 'high' | 'medium' | 'low';
  readonly state: 'raised' | 'acknowledged' | 'resolved';
  readonly raisedAt: string;
  readonly receivedAtMs: number;
  readonly repeatCount: number;
  readonly acknowledgedAt: string | null;
  readonly acknowledgedBy: string | null;
  readonly resolvedAt: string | null;
  readonly resolvedBy: string | null;
  readonly conditionClearedAt: string | null;
  readonly escalationLevel: number;
  readonly details: Readonly<Record<string, unknown>>;
}

type AlertRow = Database['alert'];
const isoOrNull = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function toAlertView(r: AlertRow): AlertView {
  return {
    id: r.id, tenantId: r.tenant_id, ruleId: r.rule_id, deviceId: r.device_id, patientId: r.patient_id, priority: r.priority, state: r.state,
    raisedAt: new Date(r.raised_at).toISOString(), receivedAtMs: r.received_at, repeatCount: r.repeat_count,
    acknowledgedAt: isoOrNull(r.acknowledged_at), acknowledgedBy: r.acknowledged_by, resolvedAt: isoOrNull(r.resolved_at), resolvedBy: r.resolved_by,
    conditionClearedAt: isoOrNull(r.condition_cleared_at), escalationLevel: r.escalation_level, details: JSON.parse(r.details) as Record<string, unknown>,
  };
}

interface Subject {
  readonly tenantId: string;
  readonly deviceId: string | null;
  readonly patientId: string | null;
}

/** Called once per change on the node that made it (webhook enqueue, metrics). */
export type AlertNotifier = (alert: AlertView, change: AlertChange) => Promise<void>;

/**
 * Raises, folds, clears, acknowledges, resolves and escalates alerts. One event raises one
 * alert: while an alert for the same rule and subject is open, repeats increase its count.
 * High-priority alerts latch (IEC 60601-1-8): when the condition ends they stay until
 * acknowledged; medium and low resolve by themselves when the condition ends.
 */
export class AlertService {
  readonly #db: Kysely<Database>;
  readonly #audit: AuditLog;
  readonly #events: EventBus;
  readonly #clock: Clock;
  readonly #rules: AlertRuleStore;
  readonly #trackers = new Map<string, ThresholdTracker>();
  readonly #notify: AlertNotifier;

  constructor(opts: { db: Kysely<Database>; audit: AuditLog; events: EventBus; rules: AlertRuleStore; clock?: Clock; notify?: AlertNotifier }) {
    this.#db = opts.db;
    this.#audit = opts.audit;
    this.#events = opts.events;
    this.#rules = opts.rules;
    this.#clock = opts.clock ?? systemClock;
    this.#notify = opts.notify ?? (async () => undefined);
  }

  /** Evaluates a vital against the most specific threshold rules for its patient and care area. */
  async onVital(o: VitalObservation): Promise<void> {
    const rules = (await this.#rules.forTenant(o.tenantId)).filter((r) => r.enabled && r.condition.kind === 'threshold' && r.condition.metric === o.metric);
    for (const rule of mostSpecific(rules, o.patientId, o.careArea)) {
      if (rule.condition.kind !== 'threshold') continue;
      const subject: Subject = { tenantId: o.tenantId, deviceId: o.deviceId, patientId: o.patientId };
      const key = dedupeKey(rule, subject);
      let tracker = this.#trackers.get(key);
      if (!tracker) {
        const open = await this.#openAlert(key);
        tracker = new ThresholdTracker(rule.condition, open !== undefined && open.condition_cleared_at === null);
        this.#trackers.set(key, tracker);
      }
      const t = tracker.observe(o.value, o.atMs);
      if (t === 'raise') await this.#raise(rule, subject, o.atMs, o.receivedAtMs, { metric: o.metric, value: o.value, threshold: rule.condition.value, op: rule.condition.op });
      else if (t === 'clear') await this.#conditionCleared(key, o.atMs);
    }
  }

  async onDeviceAlarm(e: Subject & { deviceId: string; alarm: DeviceAlarm; active: boolean; atMs: number; receivedAtMs: number }): Promise<void> {
    const rules = (await this.#rules.forTenant(e.tenantId)).filter((r) => r.enabled && r.condition.kind === 'device-alarm' && r.condition.alarm === e.alarm);
    for (const rule of rules) {
      if (e.active) await this.#raise(rule, e, e.atMs, e.receivedAtMs, { alarm: e.alarm });
      else await this.#conditionCleared(dedupeKey(rule, e), e.atMs);
    }
  }

  async onSecurityEvent(e: Subject & { event: SecurityEventKind; atMs: number; details?: Readonly<Record<string, unknown>> }): Promise<void> {
    const rules = (await this.#rules.forTenant(e.tenantId)).filter((r) => r.enabled && r.condition.kind === 'security' && r.condition.event === e.event);
    for (const rule of rules) await this.#raise(rule, e, e.atMs, this.#clock.nowMs(), { event: e.event, ...(e.details ?? {}) });
  }

  /** `missedIntervals` heartbeats are overdue; 0 means the device is heard again. */
  async onHeartbeat(e: Subject & { deviceId: string; missedIntervals: number; atMs: number }): Promise<void> {
    const rules = (await this.#rules.forTenant(e.tenantId)).filter((r) => r.enabled && r.condition.kind === 'no-heartbeat');
    for (const rule of rules) {
      if (rule.condition.kind !== 'no-heartbeat') continue;
      if (e.missedIntervals >= rule.condition.intervals) await this.#raise(rule, e, e.atMs, this.#clock.nowMs(), { missedIntervals: e.missedIntervals });
      else if (e.missedIntervals === 0) await this.#conditionCleared(dedupeKey(rule, e), e.atMs);
    }
  }

  async list(tenantScope: string | null, f: { state?: 'raised' | 'acknowledged' | 'resolved' | 'open'; deviceId?: string; limit?: number; beforeMs?: number } = {}): Promise<AlertView[]> {
    let q = this.#db.selectFrom('alert').selectAll().orderBy('raised_at', 'desc').orderBy('id').limit(Math.min(f.limit ?? 100, 500));
    if (tenantScope !== null) q = q.where('tenant_id', '=', tenantScope);
    if (f.state === 'open') q = q.where('state', '!=', 'resolved');
    else if (f.state) q = q.where('state', '=', f.state);
    if (f.deviceId) q = q.where('device_id', '=', f.deviceId);
    if (f.beforeMs !== undefined) q = q.where('raised_at', '<', f.beforeMs);
    return (await q.execute()).map(toAlertView);
  }

  async get(tenantScope: string | null, id: string): Promise<AlertView> {
    let q = this.#db.selectFrom('alert').selectAll().where('id', '=', id);
    if (tenantScope !== null) q = q.where('tenant_id', '=', tenantScope);
    const row = await q.executeTakeFirst();
    if (!row) throw new ClinicalError('ALERT_NOT_FOUND', `no alert ${id}`);
    return toAlertView(row);
  }

  async acknowledge(tenantScope: string | null, id: string, actor: string): Promise<AlertView> {
    const a = await this.get(tenantScope, id);
    if (a.state !== 'raised') throw new ClinicalError('ALERT_STATE_INVALID', `alert is ${a.state}`);
    const now = this.#clock.nowMs();
    // A latched alert whose condition has already ended is done once someone has seen it.
    const resolveToo = a.conditionClearedAt !== null;
    const r = await this.#db.updateTable('alert').set({ state: resolveToo ? 'resolved' : 'acknowledged', acknowledged_at: now, acknowledged_by: actor, ...(resolveToo ? { resolved_at: now, resolved_by: actor } : {}) })
      .where('id', '=', id).where('state', '=', 'raised').executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) throw new ClinicalError('ALERT_STATE_INVALID', 'alert changed meanwhile');
    await this.#changed(id, a.tenantId, 'acknowledged', actor);
    if (resolveToo) await this.#changed(id, a.tenantId, 'resolved', actor);
    return this.get(tenantScope, id);
  }

  async resolve(tenantScope: string | null, id: string, actor: string): Promise<AlertView> {
    const a = await this.get(tenantScope, id);
    if (a.state === 'resolved') throw new ClinicalError('ALERT_STATE_INVALID', 'alert is already resolved');
    const now = this.#clock.nowMs();
    await this.#db.updateTable('alert').set({ state: 'resolved', resolved_at: now, resolved_by: actor, acknowledged_at: a.acknowledgedAt === null ? now : Date.parse(a.acknowledgedAt), acknowledged_by: a.acknowledgedBy ?? actor }).where('id', '=', id).execute();
    // A manual resolve ends the episode: the next breach starts a new alert.
    const row = await this.#db.selectFrom('alert').select('dedupe_key').where('id', '=', id).executeTakeFirst();
    if (row) this.#trackers.delete(row.dedupe_key);
    await this.#changed(id, a.tenantId, 'resolved', actor);
    return this.get(tenantScope, id);
  }

  /** Escalates raised alerts not acknowledged in time to the next role; returns how many. */
  async escalateDue(): Promise<number> {
    const now = this.#clock.nowMs();
    const rows = await this.#db.selectFrom('alert').innerJoin('alert_rule', 'alert_rule.id', 'alert.rule_id')
      .select(['alert.id', 'alert.tenant_id', 'alert.received_at', 'alert.escalation_level', 'alert_rule.escalate_after_ms', 'alert_rule.escalation_roles'])
      .where('alert.state', '=', 'raised').execute();
    let n = 0;
    for (const r of rows) {
      const roles = JSON.parse(r.escalation_roles) as string[];
      if (r.escalation_level >= roles.length - 1) continue;
      if (now < r.received_at + (r.escalation_level + 1) * r.escalate_after_ms) continue;
      const u = await this.#db.updateTable('alert').set({ escalation_level: r.escalation_level + 1, escalated_at: now })
        .where('id', '=', r.id).where('escalation_level', '=', r.escalation_level).where('state', '=', 'raised').executeTakeFirst();
      if (Number(u.numUpdatedRows) !== 1) continue;
      n++;
      await this.#changed(r.id, r.tenant_id, 'escalated', 'system', { toRole: roles[r.escalation_level + 1] });
    }
    return n;
  }

  async #openAlert(key: string): Promise<AlertRow | undefined> {
    return this.#db.selectFrom('alert').selectAll().where('dedupe_key', '=', key).where('state', '!=', 'resolved').orderBy('raised_at', 'desc').limit(1).executeTakeFirst();
  }

  async #raise(rule: AlertRule, s: Subject, atMs: number, receivedAtMs: number, details: Record<string, unknown>): Promise<void> {
    const key = dedupeKey(rule, s);
    const open = await this.#openAlert(key);
    if (open && open.condition_cleared_at === null) {
      await this.#db.updateTable('alert').set((eb) => ({ repeat_count: eb('repeat_count', '+', 1) })).where('id', '=', open.id).execute();
      await this.#changed(open.id, open.tenant_id, 'repeated', 'system');
      return;
    }
    const id = newId('alr');
    await this.#db.insertInto('alert').values({
      id, tenant_id: s.tenantId, rule_id: rule.id, device_id: s.deviceId, patient_id: s.patientId, priority: rule.priority, state: 'raised', dedupe_key: key,
      raised_at: atMs, received_at: receivedAtMs, repeat_count: 0, acknowledged_at: null, acknowledged_by: null, resolved_at: null, resolved_by: null,
      condition_cleared_at: null, escalation_level: 0, escalated_at: null, details: JSON.stringify({ rule: rule.name, ...details }),
    }).execute();
    await this.#changed(id, s.tenantId, 'raised', 'system', { rule: rule.name, priority: rule.priority });
  }

  async #conditionCleared(key: string, atMs: number): Promise<void> {
    const open = await this.#openAlert(key);
    if (!open || open.condition_cleared_at !== null) return;
    const latches = open.priority === 'high' && open.state === 'raised';
    await this.#db.updateTable('alert').set({ condition_cleared_at: atMs, ...(latches ? {} : { state: 'resolved', resolved_at: this.#clock.nowMs(), resolved_by: 'system:condition-cleared' }) }).where('id', '=', open.id).execute();
    await this.#changed(open.id, open.tenant_id, latches ? 'condition-cleared' : 'resolved', 'system');
  }

  async #changed(id: string, tenantId: string, change: AlertChange, actor: string, extra: Record<string, unknown> = {}): Promise<void> {
    await this.#audit.append({ actor, action: `alert.${change}`, target: `alert:${id}`, tenantId, details: extra });
    await this.#events.publish({ kind: 'alert.changed', alertId: id, tenantId, change });
    const view = await this.get(null, id);
    await this.#notify(view, change);
  }
}

function dedupeKey(rule: AlertRule, s: Subject): string {
  return `${rule.id}|${s.patientId !== null ? `pat:${s.patientId}` : `dev:${s.deviceId ?? '-'}`}`;
}

/** Per metric and direction, the patient's own rules beat the care area's, which beat the tenant defaults. */
function mostSpecific(rules: readonly AlertRule[], patientId: string | null, careArea: string | null): AlertRule[] {
  const applicable = rules.filter((r) => (r.scope.patientId === undefined || r.scope.patientId === patientId) && (r.scope.careArea === undefined || r.scope.careArea === careArea));
  const rank = (r: AlertRule): number => (r.scope.patientId !== undefined ? 2 : r.scope.careArea !== undefined ? 1 : 0);
  const best = new Map<string, number>();
  for (const r of applicable) if (r.condition.kind === 'threshold') {
    const k = r.condition.op;
    best.set(k, Math.max(best.get(k) ?? -1, rank(r)));
  }
  return applicable.filter((r) => r.condition.kind === 'threshold' && rank(r) === best.get(r.condition.op));
}
