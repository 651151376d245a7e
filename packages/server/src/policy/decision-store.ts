import type { Kysely } from 'kysely';
import type { Database } from '../db/index.ts';
import { PolicyError } from './errors.ts';
import type { ActionOutcome } from './policy-actions.ts';
import type { Facts } from './facts.ts';
import type { PolicyDecisionTable } from './tables.ts';

/** A recorded decision as the API shows it. */
export interface PolicyDecision {
  readonly id: string;
  readonly tenantId: string;
  readonly policyId: string;
  readonly policyVersion: number;
  readonly policyName: string;
  readonly rule: string;
  readonly trigger: string;
  readonly deviceId: string | null;
  readonly facts: Facts;
  readonly reason: readonly string[];
  readonly actions: readonly ActionOutcome[];
  readonly decidedAt: number;
}

export interface DecisionQuery {
  readonly deviceId?: string;
  readonly policyId?: string;
  readonly limit?: number;
  readonly beforeMs?: number;
}

/** Table `policy_decision`: one row per (policy, rule, subject, fact state); the unique key is the idempotency guard. */
export class DecisionStore {
  readonly #db: Kysely<Database>;

  constructor(opts: { db: Kysely<Database> }) {
    this.#db = opts.db;
  }

  /** Claims a decision; false when the same key was decided before (by this node or another). */
  async claim(d: Omit<PolicyDecision, 'actions'> & { dedupeKey: string }): Promise<boolean> {
    const r = await this.#db.insertInto('policy_decision').values({
      id: d.id, tenant_id: d.tenantId, policy_id: d.policyId, policy_version: d.policyVersion, policy_name: d.policyName, rule: d.rule, trigger: d.trigger,
      device_id: d.deviceId, facts: JSON.stringify(d.facts), reason: JSON.stringify(d.reason), actions: '[]', dedupe_key: d.dedupeKey, decided_at: d.decidedAt,
    }).onConflict((oc) => oc.column('dedupe_key').doNothing()).executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0n) === 1;
  }

  async setActions(id: string, actions: readonly ActionOutcome[]): Promise<void> {
    await this.#db.updateTable('policy_decision').set({ actions: JSON.stringify(actions) }).where('id', '=', id).execute();
  }

  async isDecided(dedupeKey: string): Promise<boolean> {
    return (await this.#db.selectFrom('policy_decision').select('id').where('dedupe_key', '=', dedupeKey).executeTakeFirst()) !== undefined;
  }

  /** Which of these keys were decided before: one query per 500 keys, for a dry run's page. */
  async decidedAmong(dedupeKeys: readonly string[]): Promise<Set<string>> {
    const out = new Set<string>();
    for (let i = 0; i < dedupeKeys.length; i += 500) {
      const rows = await this.#db.selectFrom('policy_decision').select('dedupe_key').where('dedupe_key', 'in', dedupeKeys.slice(i, i + 500)).execute();
      for (const r of rows) out.add(r.dedupe_key);
    }
    return out;
  }

  /** Newest first; `tenantScope` null for the operator (every tenant). */
  async list(tenantScope: string | null, q: DecisionQuery = {}): Promise<PolicyDecision[]> {
    const limit = q.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new PolicyError('POLICY_QUERY_INVALID', 'limit must be 1-500');
    let query = this.#db.selectFrom('policy_decision').selectAll().orderBy('decided_at', 'desc').orderBy('id', 'desc').limit(limit);
    if (tenantScope !== null) query = query.where('tenant_id', '=', tenantScope);
    if (q.deviceId !== undefined) query = query.where('device_id', '=', q.deviceId);
    if (q.policyId !== undefined) query = query.where('policy_id', '=', q.policyId);
    if (q.beforeMs !== undefined) query = query.where('decided_at', '<', q.beforeMs);
    return (await query.execute()).map(toDecision);
  }
}

function toDecision(r: PolicyDecisionTable): PolicyDecision {
  return {
    id: r.id, tenantId: r.tenant_id, policyId: r.policy_id, policyVersion: Number(r.policy_version), policyName: r.policy_name, rule: r.rule, trigger: r.trigger,
    deviceId: r.device_id, facts: JSON.parse(r.facts) as Facts, reason: JSON.parse(r.reason) as string[], actions: JSON.parse(r.actions) as ActionOutcome[], decidedAt: Number(r.decided_at),
  };
}
