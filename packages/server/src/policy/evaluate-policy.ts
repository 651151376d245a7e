import { createHash } from 'node:crypto';
import { stableJson } from '@medtrust/core';
import { evaluateCondition } from './condition.ts';
import { FACTS, type Facts } from './facts.ts';
import type { Condition, FactTest, PolicyDocument, PolicyRule } from './policy-document.ts';

/** A rule whose condition held for one subject. */
export interface RuleMatch {
  readonly rule: PolicyRule;
  readonly reason: readonly string[];
  /** The facts the rule named, as seen. */
  readonly facts: Facts;
  /** What must change before the rule fires again for this subject. */
  readonly state: string;
}

/** Pure: the rules of a policy that match these facts, with why. */
export function matchRules(doc: PolicyDocument, facts: Facts): RuleMatch[] {
  const out: RuleMatch[] = [];
  for (const rule of doc.rules) {
    const r = evaluateCondition(rule.when, facts);
    if (!r.matched) continue;
    const leaves = leavesOf(rule.when);
    const seen: Record<string, string | number | boolean | undefined> = {};
    for (const l of leaves) seen[l.fact] = facts[l.fact];
    out.push({ rule, reason: r.trace, facts: seen, state: stableJson(leaves.map((l) => stateOf(l, facts))) });
  }
  return out;
}

/**
 * Idempotency: a number fact counts by the outcome of its test (30 -> 31 days unpatched is the
 * same state), any other fact by its value (a new firmware or address is a new state).
 */
function stateOf(l: FactTest, facts: Facts): unknown {
  const v = facts[l.fact];
  if (FACTS[l.fact]?.type !== 'number') return [l.fact, v ?? null];
  return [l.fact, evaluateCondition(l, facts).matched];
}

export function dedupeKey(parts: { policyId: string; rule: string; subject: string; state: string }): string {
  return createHash('sha256').update(stableJson(parts)).digest('hex');
}

export function leavesOf(c: Condition): FactTest[] {
  if ('all' in c) return c.all.flatMap(leavesOf);
  if ('any' in c) return c.any.flatMap(leavesOf);
  if ('not' in c) return leavesOf(c.not);
  return [c];
}

/** The fact groups (`device`, `vulns`, `cert`, `connection`, ...) a policy names: only those are loaded. */
export function factGroupsOf(doc: PolicyDocument): Set<string> {
  return new Set(doc.rules.flatMap((r) => leavesOf(r.when)).map((l) => l.fact.split('.')[0] as string));
}
