import { type Clock, newId, systemClock } from '@medtrust/core';
import type { Kysely } from 'kysely';
import type { AuditLog } from '../../audit/index.ts';
import type { Database } from '../../db/index.ts';
import { ClinicalError } from '../errors.ts';
import type { AlertCondition, AlertRule } from './alert-rule.ts';

const METRICS = ['heart-rate', 'spo2', 'body-temperature', 'nibp-systolic', 'nibp-diastolic', 'respiratory-rate', 'glucose'];
const ALARMS = ['occlusion', 'air-in-line', 'door-open', 'battery-critical', 'low-battery', 'sensor-fault', 'infusion-complete'];
const SECURITY = ['revoked-certificate-used', 'topic-violation', 'auth-failure-burst', 'cloned-certificate', 'message-rate-anomaly', 'unusual-command-time', 'security-advisory', 'unexpected-network'];

export type AlertRuleInput = Omit<AlertRule, 'id' | 'tenantId'>;

/** Problems in a rule as submitted; empty when valid. */
export function alertRuleProblems(r: Partial<AlertRuleInput>): string[] {
  const p: string[] = [];
  if (typeof r.name !== 'string' || r.name.trim() === '') p.push('name is required');
  if (!['high', 'medium', 'low'].includes(r.priority as string)) p.push('priority must be high, medium or low');
  const c = r.condition;
  if (!c || typeof c !== 'object') p.push('condition is required');
  else {
    switch (c.kind) {
      case 'threshold':
        if (!METRICS.includes(c.metric)) p.push(`condition.metric must be one of ${METRICS.join(', ')}`);
        if (c.op !== '<' && c.op !== '>') p.push('condition.op must be < or >');
        if (!Number.isFinite(c.value)) p.push('condition.value must be a number');
        if (!(Number.isInteger(c.forMs) && c.forMs >= 0 && c.forMs <= 3_600_000)) p.push('condition.forMs must be 0..3600000');
        if (!(Number.isFinite(c.hysteresis) && c.hysteresis >= 0)) p.push('condition.hysteresis must be >= 0');
        break;
      case 'device-alarm':
        if (!ALARMS.includes(c.alarm)) p.push(`condition.alarm must be one of ${ALARMS.join(', ')}`);
        break;
      case 'no-heartbeat':
        if (!(Number.isInteger(c.intervals) && c.intervals >= 1 && c.intervals <= 100)) p.push('condition.intervals must be 1..100');
        break;
      case 'security':
        if (!SECURITY.includes(c.event)) p.push(`condition.event must be one of ${SECURITY.join(', ')}`);
        break;
      default:
        p.push('condition.kind must be threshold, device-alarm, no-heartbeat or security');
    }
  }
  if (r.escalateAfterMs !== undefined && !(Number.isInteger(r.escalateAfterMs) && r.escalateAfterMs >= 10_000)) p.push('escalateAfterMs must be an integer >= 10000');
  return p;
}

type Row = Database['alert_rule'];

function toRule(r: Row): AlertRule {
  return {
    id: r.id, tenantId: r.tenant_id, name: r.name, priority: r.priority, enabled: r.enabled === 1,
    scope: JSON.parse(r.scope) as AlertRule['scope'], condition: JSON.parse(r.condition) as AlertCondition,
    escalateAfterMs: r.escalate_after_ms, escalationRoles: JSON.parse(r.escalation_roles) as string[],
  };
}

/** Alert rules as data, per tenant; cached briefly because every vital consults them. */
export class AlertRuleStore {
  readonly #db: Kysely<Database>;
  readonly #audit: AuditLog;
  readonly #clock: Clock;
  readonly #cache = new Map<string, { atMs: number; rules: readonly AlertRule[] }>();
  readonly #cacheMs: number;

  constructor(opts: { db: Kysely<Database>; audit: AuditLog; clock?: Clock; cacheMs?: number }) {
    this.#db = opts.db;
    this.#audit = opts.audit;
    this.#clock = opts.clock ?? systemClock;
    this.#cacheMs = opts.cacheMs ?? 5_000;
  }

  async forTenant(tenantId: string): Promise<readonly AlertRule[]> {
    const hit = this.#cache.get(tenantId);
    if (hit && this.#clock.nowMs() - hit.atMs < this.#cacheMs) return hit.rules;
    const rows = await this.#db.selectFrom('alert_rule').selectAll().where('tenant_id', '=', tenantId).orderBy('id').execute();
    const rules = rows.map(toRule);
    this.#cache.set(tenantId, { atMs: this.#clock.nowMs(), rules });
    return rules;
  }

  async get(tenantScope: string | null, id: string): Promise<AlertRule> {
    let q = this.#db.selectFrom('alert_rule').selectAll().where('id', '=', id);
    if (tenantScope !== null) q = q.where('tenant_id', '=', tenantScope);
    const row = await q.executeTakeFirst();
    if (!row) throw new ClinicalError('ALERT_RULE_NOT_FOUND', `no alert rule ${id}`);
    return toRule(row);
  }

  async create(tenantId: string, input: AlertRuleInput, actor: string): Promise<AlertRule> {
    const problems = alertRuleProblems(input);
    if (problems.length > 0) throw new ClinicalError('ALERT_RULE_INVALID', problems.join('; '), { details: { problems } });
    const id = newId('arl');
    await this.#db.insertInto('alert_rule').values({
      id, tenant_id: tenantId, name: input.name.trim(), priority: input.priority, enabled: input.enabled === false ? 0 : 1,
      scope: JSON.stringify(input.scope ?? {}), condition: JSON.stringify(input.condition), escalate_after_ms: input.escalateAfterMs ?? 120_000,
      escalation_roles: JSON.stringify(input.escalationRoles ?? ['clinician', 'hospital-admin']), version: 1, updated_at: this.#clock.nowMs(), updated_by: actor,
    }).execute();
    this.#cache.delete(tenantId);
    await this.#audit.append({ actor, action: 'alert.rule.created', target: `alert-rule:${id}`, tenantId, details: { name: input.name, condition: input.condition } });
    return this.get(tenantId, id);
  }

  async update(tenantScope: string | null, id: string, input: AlertRuleInput, actor: string): Promise<AlertRule> {
    const current = await this.get(tenantScope, id);
    const problems = alertRuleProblems(input);
    if (problems.length > 0) throw new ClinicalError('ALERT_RULE_INVALID', problems.join('; '), { details: { problems } });
    await this.#db.updateTable('alert_rule').set((eb) => ({
      name: input.name.trim(), priority: input.priority, enabled: input.enabled === false ? 0 : 1, scope: JSON.stringify(input.scope ?? {}),
      condition: JSON.stringify(input.condition), escalate_after_ms: input.escalateAfterMs ?? current.escalateAfterMs,
      escalation_roles: JSON.stringify(input.escalationRoles ?? current.escalationRoles), version: eb('version', '+', 1), updated_at: this.#clock.nowMs(), updated_by: actor,
    })).where('id', '=', id).execute();
    this.#cache.delete(current.tenantId);
    await this.#audit.append({ actor, action: 'alert.rule.updated', target: `alert-rule:${id}`, tenantId: current.tenantId, details: { before: current.condition, after: input.condition } });
    return this.get(tenantScope, id);
  }

  async remove(tenantScope: string | null, id: string, actor: string): Promise<void> {
    const current = await this.get(tenantScope, id);
    await this.#db.deleteFrom('alert_rule').where('id', '=', id).execute();
    this.#cache.delete(current.tenantId);
    await this.#audit.append({ actor, action: 'alert.rule.deleted', target: `alert-rule:${id}`, tenantId: current.tenantId });
  }
}
