import type { Clock } from '@medtrust/core';
import type { Kysely } from 'kysely';
import type { Permission } from '../access/index.ts';
import type { AuditLog } from '../audit/index.ts';
import type { Database } from '../db/index.ts';
import type { EventBus } from '../events/index.ts';
import type { RouteModule } from '../http/index.ts';
import type { Job } from '../jobs/index.ts';
import type { CertificateStore } from '../pki/index.ts';
import type { preHandlerAsyncHookHandler } from 'fastify';
import { AnomalyService, type SecurityAlertSink } from './anomaly/anomaly-service.ts';
import { DecisionStore } from './decision-store.ts';
import { DbFactSource } from './fact-source.ts';
import { PolicyParser } from './parse-policy.ts';
import { PolicyActions, type PolicyActionPorts } from './policy-actions.ts';
import { PolicyEngine } from './policy-engine.ts';
import { policyRoutes } from './policy-routes.ts';
import { PolicyStore } from './policy-store.ts';

/** The policy domain as the platform uses it. */
export interface Policies {
  readonly parser: PolicyParser;
  readonly store: PolicyStore;
  readonly decisions: DecisionStore;
  readonly engine: PolicyEngine;
  readonly anomalies: AnomalyService;
  /** Policy schedule and anomaly detection, once per cluster. */
  readonly jobs: readonly Job[];
  routes(guard: (permission: Permission) => preHandlerAsyncHookHandler): RouteModule;
}

/** Builds the policy engine and anomaly detection over the owning domains' services. */
export function createPolicies(d: {
  db: Kysely<Database>; audit: AuditLog; events: EventBus; clock: Clock; certificates: CertificateStore;
  devices: PolicyActionPorts['devices']; revocation: PolicyActionPorts['revocation']; alerts: SecurityAlertSink; operatorTenantId: () => Promise<string>;
}): Policies {
  const parser = new PolicyParser();
  const store = new PolicyStore({ db: d.db, audit: d.audit, clock: d.clock });
  const decisions = new DecisionStore({ db: d.db });
  const actions = new PolicyActions({ db: d.db, clock: d.clock, ports: { devices: d.devices, certificates: d.certificates, revocation: d.revocation, alerts: d.alerts, events: d.events } });
  const engine = new PolicyEngine({ store, decisions, facts: new DbFactSource({ db: d.db, certificates: d.certificates, clock: d.clock }), actions, audit: d.audit, clock: d.clock });
  const anomalies = new AnomalyService({ db: d.db, decisions, audit: d.audit, alerts: d.alerts, operatorTenantId: d.operatorTenantId, clock: d.clock });
  return {
    parser, store, decisions, engine, anomalies,
    jobs: [engine.job(), anomalies.job()],
    routes: (guard) => policyRoutes({ store, decisions, engine, parser, guard }),
  };
}
