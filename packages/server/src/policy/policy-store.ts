import { type Clock, newId, systemClock } from '@medtrust/core';
import type { Kysely } from 'kysely';
import type { AuditLog } from '../audit/index.ts';
import type { Database } from '../db/index.ts';
import { PolicyError } from './errors.ts';
import type { PolicyDocument, StoredPolicy } from './policy-document.ts';
import type { PolicyVersionTable } from './tables.ts';

/**
 * Policies as versioned data: every save is a new version (older ones stay for the record and
 * for decisions that cite them); the active policy is the latest version when it is enabled.
 */
export class PolicyStore {
  readonly #db: Kysely<Database>;
  readonly #audit: AuditLog;
  readonly #clock: Clock;

  constructor(opts: { db: Kysely<Database>; audit: AuditLog; clock?: Clock }) {
    this.#db = opts.db;
    this.#audit = opts.audit;
    this.#clock = opts.clock ?? systemClock;
  }

  /** Saves a validated document as the next version of the tenant's policy of that name. */
  async save(tenantId: string, doc: PolicyDocument, actor: string): Promise<StoredPolicy> {
    const now = this.#clock.nowMs();
    for (let attempt = 0; ; attempt++) {
      const latest = await this.#db.selectFrom('policy_version').selectAll().where('tenant_id', '=', tenantId).where('name', '=', doc.name).orderBy('version', 'desc').limit(1).executeTakeFirst();
      const row: PolicyVersionTable = {
        policy_id: latest?.policy_id ?? newId('pol'), version: (latest ? Number(latest.version) : 0) + 1, tenant_id: tenantId, name: doc.name,
        enabled: doc.enabled === false ? 0 : 1, document: JSON.stringify(doc), created_at: now, created_by: actor,
      };
      try {
        // The unique (tenant, name, version) index makes two concurrent saves pick distinct versions.
        await this.#db.insertInto('policy_version').values(row).execute();
      } catch (e) {
        if (attempt < 3) continue;
        throw e;
      }
      await this.#audit.append({ actor, action: 'policy.saved', target: `policy:${row.policy_id}`, tenantId, details: { name: row.name, version: row.version, enabled: row.enabled === 1 } });
      return toStored(row);
    }
  }

  /** The latest version of each policy visible in scope (null: every tenant). */
  async list(tenantScope: string | null): Promise<StoredPolicy[]> {
    let q = this.#db.selectFrom('policy_version').selectAll().orderBy('name').orderBy('version', 'desc');
    if (tenantScope !== null) q = q.where('tenant_id', '=', tenantScope);
    const seen = new Set<string>();
    const out: StoredPolicy[] = [];
    for (const r of await q.execute()) {
      if (seen.has(r.policy_id)) continue;
      seen.add(r.policy_id);
      out.push(toStored(r));
    }
    return out;
  }

  /** Active policies (latest version enabled) of every tenant. */
  async active(): Promise<StoredPolicy[]> {
    return (await this.list(null)).filter((p) => p.enabled);
  }

  /** One policy's latest version (or a given one); POLICY_NOT_FOUND outside scope. */
  async get(tenantScope: string | null, policyId: string, version?: number): Promise<StoredPolicy> {
    let q = this.#db.selectFrom('policy_version').selectAll().where('policy_id', '=', policyId).orderBy('version', 'desc').limit(1);
    if (version !== undefined) q = q.where('version', '=', version);
    if (tenantScope !== null) q = q.where('tenant_id', '=', tenantScope);
    const r = await q.executeTakeFirst();
    if (!r) throw new PolicyError('POLICY_NOT_FOUND', 'no such policy', { details: { policyId } });
    return toStored(r);
  }

  /** Every version of a policy, newest first. */
  async versions(tenantScope: string | null, policyId: string): Promise<StoredPolicy[]> {
    let q = this.#db.selectFrom('policy_version').selectAll().where('policy_id', '=', policyId).orderBy('version', 'desc');
    if (tenantScope !== null) q = q.where('tenant_id', '=', tenantScope);
    const rows = await q.execute();
    if (rows.length === 0) throw new PolicyError('POLICY_NOT_FOUND', 'no such policy', { details: { policyId } });
    return rows.map(toStored);
  }

  /** When a scheduled policy last ran (any version), for the schedule job. */
  async lastRun(policyId: string): Promise<number | undefined> {
    const r = await this.#db.selectFrom('policy_schedule').select('last_run_at').where('policy_id', '=', policyId).executeTakeFirst();
    return r ? Number(r.last_run_at) : undefined;
  }

  async markRun(policyId: string, atMs: number): Promise<void> {
    await this.#db.insertInto('policy_schedule').values({ policy_id: policyId, last_run_at: atMs })
      .onConflict((oc) => oc.column('policy_id').doUpdateSet({ last_run_at: atMs })).execute();
  }

  /** Disables a policy by saving a new, disabled version (history is never rewritten). */
  async disable(tenantScope: string | null, policyId: string, actor: string): Promise<StoredPolicy> {
    const p = await this.get(tenantScope, policyId);
    return this.save(p.tenantId, { ...p.document, enabled: false }, actor);
  }
}

function toStored(r: PolicyVersionTable): StoredPolicy {
  return { id: r.policy_id, tenantId: r.tenant_id, name: r.name, version: Number(r.version), enabled: Number(r.enabled) === 1, document: JSON.parse(r.document) as PolicyDocument, createdAt: Number(r.created_at), createdBy: r.created_by };
}
