import type { SecurityEventKind } from '../clinical/index.ts';

/** Comparison operators of the condition language; one per leaf, next to `fact`. */
export const OPERATORS = ['eq', 'ne', 'in', 'notIn', 'lt', 'lte', 'gt', 'gte', 'semverLt', 'semverLte', 'semverGt', 'semverGte', 'inCidr', 'notInCidr', 'exists'] as const;
export type Operator = (typeof OPERATORS)[number];

export type Scalar = string | number | boolean;

/** A leaf compares one fact with a literal: `{ "fact": "device.model", "eq": "PumpX" }`. */
export type FactTest = { readonly fact: string } & { readonly [K in Operator]?: Scalar | readonly Scalar[] };

/** The condition language: `all`/`any`/`not` over fact tests. No expressions, no eval. */
export type Condition =
  | { readonly all: readonly Condition[] }
  | { readonly any: readonly Condition[] }
  | { readonly not: Condition }
  | FactTest;

/** Hooks are checks the platform asks before it acts; events and schedules look afterwards. */
export const HOOK_TRIGGERS = ['device.connect', 'certificate.issuance', 'command.request'] as const;
export const EVENT_TRIGGERS = ['device.state-changed', 'certificate.issued', 'certificate.revoked'] as const;
export type HookTrigger = (typeof HOOK_TRIGGERS)[number];
export type EventTrigger = (typeof EVENT_TRIGGERS)[number];

export type Trigger =
  | { readonly event: EventTrigger | HookTrigger }
  | { readonly schedule: { readonly everyMinutes: number } };

export const ACTION_KINDS = ['alert', 'quarantine', 'revoke', 'force-update', 'notify', 'deny'] as const;

export type PolicyAction =
  | { readonly kind: 'alert'; readonly event: SecurityEventKind }
  | { readonly kind: 'quarantine' }
  | { readonly kind: 'revoke'; readonly reason?: 'keyCompromise' | 'affiliationChanged' | 'superseded' | 'cessationOfOperation' | 'certificateHold' }
  | { readonly kind: 'force-update' }
  | { readonly kind: 'notify'; readonly topic: string; readonly flag?: 'reenrol-required' | 'update-required' }
  /** Only meaningful on hook triggers: the check answers POLICY_DENIED. */
  | { readonly kind: 'deny' };

export type ActionKind = PolicyAction['kind'];

export interface PolicyRule {
  readonly name: string;
  readonly when: Condition;
  readonly actions: readonly PolicyAction[];
}

/** A policy as written by people (JSON or YAML). */
export interface PolicyDocument {
  readonly name: string;
  readonly description?: string;
  readonly enabled?: boolean;
  readonly trigger: Trigger;
  readonly rules: readonly PolicyRule[];
}

/** A stored version of a policy. */
export interface StoredPolicy {
  readonly id: string;
  readonly tenantId: string;
  readonly name: string;
  readonly version: number;
  readonly enabled: boolean;
  readonly document: PolicyDocument;
  readonly createdAt: number;
  readonly createdBy: string;
}

export function isHookTrigger(t: Trigger): t is { readonly event: HookTrigger } {
  return 'event' in t && (HOOK_TRIGGERS as readonly string[]).includes(t.event);
}
