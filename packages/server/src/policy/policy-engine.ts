import { type Clock, newId, systemClock } from '@medtrust/core';
import type { AuditLog } from '../audit/index.ts';
import type { Device } from '../devices/index.ts';
import type { EventBus } from '../events/index.ts';
import type { Job } from '../jobs/index.ts';
import type { DecisionStore } from './decision-store.ts';
import { PolicyError } from './errors.ts';
import { dedupeKey, factGroupsOf, matchRules, type RuleMatch } from './evaluate-policy.ts';
import type { FactSource, HookFacts } from './fact-source.ts';
import type { Facts } from './facts.ts';
import type { ActionOutcome, PolicyActions } from './policy-actions.ts';
import type { EventTrigger, HookTrigger, PolicyDocument, StoredPolicy } from './policy-document.ts';
import type { PolicyStore } from './policy-store.ts';

const PAGE = 500;
/** The schedule job wakes every minute; each policy runs at its own `everyMinutes`. */
export const POLICY_JOB_INTERVAL_MS = 60_000;

/** One device a dry run would touch, and how. */
export interface DryRunHit {
  readonly deviceId: string;
  readonly tenantId: string;
  readonly rule: string;
  readonly reason: readonly string[];
  readonly actions: readonly ActionOutcome[];
  /** True when this exact state was decided before: a real run would not act again. */
  readonly alreadyDecided: boolean;
}

/** The gateway asks this at connect time (seam: gateway/ does not import policy/). */
export interface ConnectAdmission {
  /** Throws POLICY_DENIED when an enabled `device.connect` policy refuses the device. */
  admitConnect(c: { deviceId: string; remoteAddress?: string | null; transport?: string }): Promise<void>;
}

/**
 * Evaluates policies on events, on a schedule and at hooks; records each fired rule once per fact
 * state (`policy_decision`), audits it (`policy.decision`) and runs its actions.
 */
export class PolicyEngine implements ConnectAdmission {
  readonly #store: PolicyStore;
  readonly #decisions: DecisionStore;
  readonly #facts: FactSource;
  readonly #actions: PolicyActions;
  readonly #audit: AuditLog;
  readonly #clock: Clock;

  constructor(opts: { store: PolicyStore; decisions: DecisionStore; facts: FactSource; actions: PolicyActions; audit: AuditLog; clock?: Clock }) {
    this.#store = opts.store;
    this.#decisions = opts.decisions;
    this.#facts = opts.facts;
    this.#actions = opts.actions;
    this.#audit = opts.audit;
    this.#clock = opts.clock ?? systemClock;
  }

  /** Subscribes to the bus events policies can trigger on; returns the unsubscribe. */
  listen(events: EventBus): () => void {
    const offs = [
      events.subscribe('device.state-changed', async (e) => void (await this.onEvent('device.state-changed', e.deviceId))),
      events.subscribe('certificate.issued', async (e) => void (e.deviceId && (await this.onEvent('certificate.issued', e.deviceId)))),
      events.subscribe('certificate.revoked', async (e) => void (e.deviceId && (await this.onEvent('certificate.revoked', e.deviceId)))),
    ];
    return () => offs.forEach((off) => off());
  }

  /** Evaluates the active policies triggered by this event for one device. */
  async onEvent(trigger: EventTrigger, deviceId: string): Promise<number> {
    const device = await this.#facts.device(deviceId);
    if (!device) return 0;
    let fired = 0;
    for (const p of await this.#triggered((t) => 'event' in t && t.event === trigger)) {
      if (!(await this.#reaches(p, device))) continue;
      fired += (await this.#decide(p, trigger, device, {})).fired;
    }
    return fired;
  }

  /** Runs every scheduled policy that is due (or all with `force`); returns rules fired. */
  async runScheduled(opts: { force?: boolean } = {}): Promise<number> {
    let fired = 0;
    for (const p of await this.#triggered((t) => 'schedule' in t)) {
      if (!opts.force && !(await this.#due(p))) continue;
      fired += await this.evaluateFleet(p);
    }
    return fired;
  }

  /** Evaluates one stored policy against every device it reaches, acting on matches. */
  async evaluateFleet(p: StoredPolicy): Promise<number> {
    let fired = 0;
    const reach = await this.#facts.reachOf(p.tenantId);
    const loader = this.#facts.loader(factGroupsOf(p.document));
    for (let after: string | undefined; ;) {
      const page = await this.#facts.devices(reach, after, PAGE);
      const facts = await loader.factsOf(page);
      // Facts of a page are read before any of its actions run; an action touches only its own device.
      for (const d of page) fired += (await this.#decide(p, 'schedule', d, {}, facts.get(d.id))).fired;
      if (page.length < PAGE) break;
      after = page[page.length - 1]?.id;
    }
    await this.#store.markRun(p.id, this.#clock.nowMs());
    return fired;
  }

  /** The scheduled evaluation as a cluster job. */
  job(): Job {
    return { name: 'policy-evaluate', intervalMs: POLICY_JOB_INTERVAL_MS, run: async () => void (await this.runScheduled()) };
  }

  async admitConnect(c: { deviceId: string; remoteAddress?: string | null; transport?: string }): Promise<void> {
    await this.#hook('device.connect', c.deviceId, { 'connection.remoteAddress': c.remoteAddress ?? undefined, 'connection.transport': c.transport });
  }

  /** Issuance hook: call before signing a device certificate with the CSR's key facts (keyFacts()). */
  async checkIssuance(c: { deviceId: string; key: HookFacts }): Promise<void> {
    await this.#hook('certificate.issuance', c.deviceId, c.key);
  }

  /** Command hook: call before a command is signed for a device. */
  async checkCommand(c: { deviceId: string; kind: string }): Promise<void> {
    await this.#hook('command.request', c.deviceId, { 'command.kind': c.kind });
  }

  /** What a policy document would do now, changing nothing: devices and actions. */
  async dryRun(doc: PolicyDocument, tenantId: string, policyId?: string): Promise<DryRunHit[]> {
    const reach = await this.#facts.reachOf(tenantId);
    const loader = this.#facts.loader(factGroupsOf(doc));
    const hits: DryRunHit[] = [];
    for (let after: string | undefined; ;) {
      const page = await this.#facts.devices(reach, after, PAGE);
      const facts = await loader.factsOf(page);
      const matched = page.flatMap((d) => matchRules(doc, facts.get(d.id) ?? {}).map((m) => ({ d, m, key: policyId === undefined ? undefined : dedupeKey({ policyId, rule: m.rule.name, subject: d.id, state: m.state }) })));
      const decided = await this.#decisions.decidedAmong(matched.flatMap((x) => (x.key === undefined ? [] : [x.key])));
      for (const { d, m, key } of matched) {
        hits.push({ deviceId: d.id, tenantId: d.tenantId, rule: m.rule.name, reason: m.reason, actions: this.#actions.preview(m.rule.actions, d), alreadyDecided: key !== undefined && decided.has(key) });
      }
      if (page.length < PAGE) break;
      after = page[page.length - 1]?.id;
    }
    return hits;
  }

  async #hook(trigger: HookTrigger, deviceId: string, extra: HookFacts): Promise<void> {
    const policies = await this.#triggered((t) => 'event' in t && t.event === trigger);
    if (policies.length === 0) return;
    const device = await this.#facts.device(deviceId);
    if (!device) return;
    for (const p of policies) {
      if (!(await this.#reaches(p, device))) continue;
      const { matches } = await this.#decide(p, trigger, device, extra);
      const deny = matches.find((m) => m.rule.actions.some((a) => a.kind === 'deny'));
      if (deny) throw new PolicyError('POLICY_DENIED', `policy ${p.name} v${p.version} rule ${deny.rule.name} refuses this ${trigger}`, { details: { policyId: p.id, policyVersion: p.version, rule: deny.rule.name } });
    }
  }

  /** Matches of one policy for one device; `fired` counts those decided now (not before). */
  async #decide(p: StoredPolicy, trigger: string, device: Device, extra: HookFacts, loaded?: Facts): Promise<{ matches: RuleMatch[]; fired: number }> {
    const facts: Facts = { ...(loaded ?? (await this.#facts.facts(device, factGroupsOf(p.document)))), ...definedOnly(extra) };
    const matches = matchRules(p.document, facts);
    let fired = 0;
    for (const m of matches) {
      const id = newId('pdec');
      const key = dedupeKey({ policyId: p.id, rule: m.rule.name, subject: device.id, state: m.state });
      const claimed = await this.#decisions.claim({ id, tenantId: device.tenantId, policyId: p.id, policyVersion: p.version, policyName: p.name, rule: m.rule.name, trigger, deviceId: device.id, facts: m.facts, reason: m.reason, decidedAt: this.#clock.nowMs(), dedupeKey: key });
      // Idempotency: this fact state was decided before (here or on another node); do not act twice.
      if (!claimed) continue;
      fired += 1;
      const outcomes = await this.#actions.run(m.rule.actions, { device, policyId: p.id, policyName: p.name, rule: m.rule.name, actor: `policy:${p.id}@${p.version}` });
      await this.#decisions.setActions(id, outcomes);
      await this.#audit.append({
        actor: `policy:${p.id}@${p.version}`, action: 'policy.decision', target: `device:${device.id}`, tenantId: device.tenantId,
        outcome: m.rule.actions.some((a) => a.kind === 'deny') ? 'denied' : 'success',
        details: { decisionId: id, policyId: p.id, policyName: p.name, policyVersion: p.version, rule: m.rule.name, trigger, reason: m.reason, actions: outcomes.map((o) => `${o.kind}:${o.outcome}`) },
      });
    }
    return { matches, fired };
  }

  async #triggered(pred: (t: PolicyDocument['trigger']) => boolean): Promise<StoredPolicy[]> {
    return (await this.#store.active()).filter((p) => pred(p.document.trigger));
  }

  async #reaches(p: StoredPolicy, d: Device): Promise<boolean> {
    const reach = await this.#facts.reachOf(p.tenantId);
    switch (reach.kind) {
      case 'all':
        return true;
      case 'tenant':
        return d.tenantId === reach.tenantId;
      case 'site':
        return d.siteId === reach.siteId;
      default:
        return reach satisfies never;
    }
  }

  async #due(p: StoredPolicy): Promise<boolean> {
    if (!('schedule' in p.document.trigger)) return false;
    const last = await this.#store.lastRun(p.id);
    return last === undefined || this.#clock.nowMs() - last >= p.document.trigger.schedule.everyMinutes * 60_000;
  }
}

function definedOnly(f: HookFacts): Facts {
  return Object.fromEntries(Object.entries(f).filter(([, v]) => v !== undefined));
}
