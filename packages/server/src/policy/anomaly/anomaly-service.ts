import { type Clock, newId, systemClock } from '@medtrust/core';
import { type Kysely, sql } from 'kysely';
import type { AuditLog } from '../../audit/index.ts';
import type { SecurityEventKind } from '../../clinical/index.ts';
import type { Database } from '../../db/index.ts';
import type { Job } from '../../jobs/index.ts';
import type { DecisionStore } from '../decision-store.ts';
import { dedupeKey } from '../evaluate-policy.ts';
import type { ActionOutcome } from '../policy-actions.ts';
import { authFailureBursts, clonedCertificates, messageRateAnomalies, modelBaselines, unusualCommandTimes } from './detectors.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

/** Tunables; the defaults are documented in docs/anomaly-detection.md. */
export interface AnomalySettings {
  readonly authWindowMs: number;
  readonly authThreshold: number;
  /** How far back each run looks for overlapping connections. */
  readonly cloneLookbackMs: number;
  readonly rateWindowMs: number;
  readonly rateHistoryMs: number;
  readonly rateFactor: number;
  readonly rateMinCount: number;
  readonly commandHistoryMs: number;
  readonly commandLookbackMs: number;
  readonly commandMinHistory: number;
  readonly commandMinShare: number;
}

export const DEFAULT_ANOMALY_SETTINGS: AnomalySettings = {
  authWindowMs: 5 * MIN, authThreshold: 10, cloneLookbackMs: 15 * MIN,
  rateWindowMs: 5 * MIN, rateHistoryMs: DAY, rateFactor: 5, rateMinCount: 50,
  commandHistoryMs: 28 * DAY, commandLookbackMs: 15 * MIN, commandMinHistory: 30, commandMinShare: 0.02,
};

/** One finding: who, what, and the facts behind it. */
interface Finding {
  readonly event: SecurityEventKind;
  readonly tenantId: string;
  readonly deviceId: string | null;
  readonly atMs: number;
  /** Same finding on a later run: same key. */
  readonly identity: string;
  readonly facts: Readonly<Record<string, string | number | boolean>>;
  readonly reason: string;
}

/** AlertService.onSecurityEvent (clinical/), or undefined when alerts are not running. */
export type SecurityAlertSink = { onSecurityEvent(e: { tenantId: string; deviceId: string | null; patientId: string | null; event: SecurityEventKind; atMs: number; details?: Readonly<Record<string, unknown>> }): Promise<void> } | undefined;

/**
 * Anomaly detection driven by a job: reads windows of the audit log (gateway refusals), connection
 * history, telemetry counts and commands; the detectors are pure; each finding is a decision
 * (`anomaly:<kind>`), recorded once, audited, and raised as a security alert.
 */
export class AnomalyService {
  readonly #db: Kysely<Database>;
  readonly #decisions: DecisionStore;
  readonly #audit: AuditLog;
  readonly #alerts: SecurityAlertSink;
  readonly #clock: Clock;
  readonly #s: AnomalySettings;
  readonly #operatorTenantId: () => Promise<string>;

  constructor(opts: { db: Kysely<Database>; decisions: DecisionStore; audit: AuditLog; alerts: SecurityAlertSink; operatorTenantId: () => Promise<string>; clock?: Clock; settings?: Partial<AnomalySettings> }) {
    this.#db = opts.db;
    this.#decisions = opts.decisions;
    this.#audit = opts.audit;
    this.#alerts = opts.alerts;
    this.#operatorTenantId = opts.operatorTenantId;
    this.#clock = opts.clock ?? systemClock;
    this.#s = { ...DEFAULT_ANOMALY_SETTINGS, ...opts.settings };
  }

  job(intervalMs = MIN): Job {
    return { name: 'anomaly-detect', intervalMs, run: async () => void (await this.runOnce()) };
  }

  /** Runs every detector once; returns the findings recorded now (not seen before). */
  async runOnce(): Promise<number> {
    const now = this.#clock.nowMs();
    const findings = [...(await this.#authBursts(now)), ...(await this.#clones(now)), ...(await this.#rates(now)), ...(await this.#commandTimes(now))];
    let recorded = 0;
    for (const f of findings) if (await this.#record(f)) recorded += 1;
    return recorded;
  }

  async #authBursts(now: number): Promise<Finding[]> {
    // The gateway audits each refused connection (`gateway.connect`, denied) with the address.
    const rows = await this.#db.selectFrom('audit_entry').select(['at', 'target', 'details', 'tenant_id'])
      .where('action', '=', 'gateway.connect').where('outcome', '=', 'denied').where('at', '>=', now - 2 * this.#s.authWindowMs).execute();
    const tenantOfDevice = new Map<string, string>();
    const failures = rows.map((r) => {
      const details = JSON.parse(r.details) as { remoteAddress?: unknown };
      const deviceId = r.target?.startsWith('device:') ? r.target.slice(7) : null;
      if (deviceId && r.tenant_id) tenantOfDevice.set(deviceId, r.tenant_id);
      return { atMs: Number(r.at), deviceId, remoteAddress: typeof details.remoteAddress === 'string' ? details.remoteAddress : null };
    });
    const operator = await this.#operatorTenantId();
    return authFailureBursts(failures, { windowMs: this.#s.authWindowMs, threshold: this.#s.authThreshold }).map((b) => ({
      event: 'auth-failure-burst', tenantId: b.by === 'device' ? (tenantOfDevice.get(b.subject) ?? operator) : operator, deviceId: b.by === 'device' ? b.subject : null, atMs: b.reachedMs,
      // One burst per subject per window: a run a minute later sees the same burst.
      identity: `${b.by}:${b.subject}:${Math.floor(b.firstMs / this.#s.authWindowMs)}`,
      facts: { by: b.by, subject: b.subject, failures: b.count, windowMs: this.#s.authWindowMs }, reason: `${b.count} refused connections by ${b.by} ${b.subject} within ${this.#s.authWindowMs / MIN} min (threshold ${this.#s.authThreshold})`,
    }));
  }

  async #clones(now: number): Promise<Finding[]> {
    const rows = await this.#db.selectFrom('device_connection').select(['id', 'device_id', 'tenant_id', 'cert_serial', 'remote_address', 'connected_at', 'disconnected_at'])
      .where((eb) => eb.or([eb('disconnected_at', 'is', null), eb('disconnected_at', '>=', now - this.#s.cloneLookbackMs)])).execute();
    const tenant = new Map(rows.map((r) => [r.device_id, r.tenant_id]));
    const spans = rows.map((r) => ({ id: Number(r.id), deviceId: r.device_id, certSerial: r.cert_serial, remoteAddress: r.remote_address, connectedAt: Number(r.connected_at), disconnectedAt: r.disconnected_at === null ? null : Number(r.disconnected_at) }));
    return clonedCertificates(spans).map((c) => ({
      event: 'cloned-certificate', tenantId: tenant.get(c.deviceId) as string, deviceId: c.deviceId, atMs: c.atMs, identity: `${c.certSerial}:${c.connectionIds.join(',')}`,
      facts: { certSerial: c.certSerial, addressA: c.addresses[0], addressB: c.addresses[1] }, reason: `certificate ${c.certSerial} connected from ${c.addresses[0]} and ${c.addresses[1]} at the same time`,
    }));
  }

  async #rates(now: number): Promise<Finding[]> {
    const w = this.#s.rateWindowMs;
    const currentStart = now - w;
    // Per device per window bucket over the history: integer division works alike on both dialects.
    const bucket = sql<number>`m.received_at / ${sql.lit(w)}`;
    const history = await this.#db.selectFrom('telemetry_message as m').innerJoin('device as d', 'd.id', 'm.device_id')
      .select(['m.device_id', 'd.model', bucket.as('b'), (eb) => eb.fn.countAll().as('n')])
      .where('m.received_at', '>=', currentStart - this.#s.rateHistoryMs).where('m.received_at', '<', currentStart)
      .groupBy(['m.device_id', 'd.model', bucket]).execute();
    const current = await this.#db.selectFrom('telemetry_message as m').innerJoin('device as d', 'd.id', 'm.device_id')
      .select(['m.device_id', 'd.model', 'd.tenant_id', (eb) => eb.fn.countAll().as('n')])
      .where('m.received_at', '>=', currentStart).groupBy(['m.device_id', 'd.model', 'd.tenant_id']).execute();
    const baselines = modelBaselines(history.map((h) => ({ deviceId: h.device_id, model: h.model, count: Number(h.n) })));
    const tenant = new Map(current.map((c) => [c.device_id, c.tenant_id]));
    return messageRateAnomalies(current.map((c) => ({ deviceId: c.device_id, model: c.model, count: Number(c.n) })), baselines, { factor: this.#s.rateFactor, minCount: this.#s.rateMinCount }).map((a) => ({
      event: 'message-rate-anomaly', tenantId: tenant.get(a.deviceId) as string, deviceId: a.deviceId, atMs: now, identity: `${a.deviceId}:${Math.floor(now / w)}`,
      facts: { model: a.model, messages: a.count, baseline: a.baseline, windowMs: w }, reason: `${a.count} messages in ${w / MIN} min, model ${a.model} baseline ${a.baseline} (x${this.#s.rateFactor} allowed)`,
    }));
  }

  async #commandTimes(now: number): Promise<Finding[]> {
    const since = now - this.#s.commandLookbackMs;
    const rows = await this.#db.selectFrom('device_command').select(['id', 'tenant_id', 'device_id', 'created_at']).where('created_at', '>=', now - this.#s.commandHistoryMs).execute();
    const all = rows.map((r) => ({ id: r.id, tenantId: r.tenant_id, deviceId: r.device_id, atMs: Number(r.created_at) }));
    const zones = new Map((await this.#db.selectFrom('tenant').select(['id', 'time_zone']).execute()).map((t) => [t.id, t.time_zone ?? undefined]));
    return unusualCommandTimes(all.filter((c) => c.atMs < since), all.filter((c) => c.atMs >= since), { minHistory: this.#s.commandMinHistory, minShare: this.#s.commandMinShare, timeZoneOf: (t) => zones.get(t) }).map((u) => ({
      event: 'unusual-command-time', tenantId: u.tenantId, deviceId: u.deviceId, atMs: now, identity: u.commandId,
      facts: { commandId: u.commandId, hour: u.hour, share: Math.round(u.share * 10_000) / 10_000, history: u.history }, reason: `command at hour ${u.hour}: ${(u.share * 100).toFixed(1)}% of ${u.history} past commands fall within an hour of it`,
    }));
  }

  async #record(f: Finding): Promise<boolean> {
    const id = newId('pdec');
    const policyId = `anomaly:${f.event}`;
    const claimed = await this.#decisions.claim({ id, tenantId: f.tenantId, policyId, policyVersion: 0, policyName: policyId, rule: f.event, trigger: 'schedule', deviceId: f.deviceId, facts: f.facts, reason: [f.reason], decidedAt: this.#clock.nowMs(), dedupeKey: dedupeKey({ policyId, rule: f.event, subject: f.deviceId ?? '', state: f.identity }) });
    if (!claimed) return false;
    let outcome: ActionOutcome = { kind: 'alert', outcome: 'skipped', detail: 'clinical alerts are not running' };
    if (this.#alerts) {
      try {
        await this.#alerts.onSecurityEvent({ tenantId: f.tenantId, deviceId: f.deviceId, patientId: null, event: f.event, atMs: f.atMs, details: f.facts });
        outcome = { kind: 'alert', outcome: 'done', detail: f.event };
      } catch (e) {
        outcome = { kind: 'alert', outcome: 'failed', detail: e && typeof e === 'object' && 'code' in e ? String((e).code) : 'INTERNAL' };
      }
    }
    await this.#decisions.setActions(id, [outcome]);
    await this.#audit.append({ actor: 'system', action: 'policy.decision', target: f.deviceId ? `device:${f.deviceId}` : null, tenantId: f.tenantId, details: { decisionId: id, policyId, rule: f.event, reason: f.reason, facts: f.facts, actions: [`alert:${outcome.outcome}`] } });
    return true;
  }
}
