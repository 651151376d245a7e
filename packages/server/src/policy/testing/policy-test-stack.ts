// Test support: the policy engine over the real PKI stack (CA hierarchy, issuance, registry),
// real revocation, clinical alerts and vulnerability services, on either dialect.
import 'reflect-metadata';
import { generateKeyPairSync, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { ManualClock } from '@medtrust/core';
import { TenantService } from '../../access/index.ts';
import { AlertRuleStore, AlertService } from '../../clinical/index.ts';
import type { SqlDialectName } from '../../db/index.ts';
import type { Device, DeviceState } from '../../devices/index.ts';
import type { PlatformEvent } from '../../events/index.ts';
import { RevocationService } from '../../pki/index.ts';
// Test harness only: the PKI stack is not part of pki/'s public surface.
import { createPkiTestStack, type PkiTestStack } from '../../pki/testing/pki-test-stack.ts';
import { VulnService } from '../../vulns/index.ts';
import { DecisionStore } from '../decision-store.ts';
import { DbFactSource } from '../fact-source.ts';
import { PolicyParser } from '../parse-policy.ts';
import { PolicyActions } from '../policy-actions.ts';
import { PolicyEngine } from '../policy-engine.ts';
import { PolicyStore } from '../policy-store.ts';

export interface PolicyTestStack {
  readonly pki: PkiTestStack;
  readonly clock: ManualClock;
  readonly parser: PolicyParser;
  readonly store: PolicyStore;
  readonly decisions: DecisionStore;
  readonly engine: PolicyEngine;
  readonly vulns: VulnService;
  readonly alerts: AlertService;
  readonly alertRules: AlertRuleStore;
  readonly revocation: RevocationService;
  readonly tenants: TenantService;
  /** Every event published on the bus, in order. */
  readonly published: PlatformEvent[];
  /** A device in `state` with an LDevID (P-256) and, when given, a firmware version. */
  device(opts: { model: string; tenantId: string; firmwareVersion?: string; state?: DeviceState; siteId?: string }): Promise<Device>;
  close(): Promise<void>;
}

export async function createPolicyTestStack(dialect: SqlDialectName, startMs = Date.parse('2026-11-23T00:00:00Z')): Promise<PolicyTestStack> {
  const clock = new ManualClock(startMs);
  const pki = await createPkiTestStack(dialect, { clock });
  const { db } = pki.t;
  const published: PlatformEvent[] = [];
  const publish = pki.events.publish.bind(pki.events);
  pki.events.publish = async (e) => {
    published.push(e);
    await publish(e);
  };
  const alertRules = new AlertRuleStore({ db, audit: pki.audit, clock, cacheMs: 0 });
  const alerts = new AlertService({ db, audit: pki.audit, events: pki.events, rules: alertRules, clock });
  const revocation = new RevocationService({ db, audit: pki.audit, events: pki.events, clock });
  const store = new PolicyStore({ db, audit: pki.audit, clock });
  const decisions = new DecisionStore({ db });
  const actions = new PolicyActions({ db, clock, ports: { devices: pki.devices, certificates: pki.certificates, revocation, alerts, events: pki.events } });
  const engine = new PolicyEngine({ store, decisions, facts: new DbFactSource({ db, certificates: pki.certificates, clock }), actions, audit: pki.audit, clock });
  let n = 0;
  return {
    pki, clock, parser: new PolicyParser(), store, decisions, engine, alerts, alertRules, revocation, published,
    vulns: new VulnService({ db, audit: pki.audit, clock }),
    tenants: new TenantService({ db, clock }),
    device: async (o) => {
      n += 1;
      const d = await pki.devices.create({ serial: `SN${n}`, model: o.model, hardwareRevision: 'r1', tenantId: o.tenantId }, 'test');
      const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
      const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
      const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: `CN=${d.id}`, keys, signingAlgorithm: alg });
      await pki.issuer.issueLdevid({ deviceId: d.id, csrDer: Buffer.from(csr.rawData), actor: 'test' });
      // No registry API sets firmware or site yet (updates/devices own that): written as the agent's report would.
      await db.updateTable('device').set({ firmware_version: o.firmwareVersion ?? null, site_id: o.siteId ?? null }).where('id', '=', d.id).execute();
      let cur = await pki.devices.get(d.id);
      for (const s of ['enrolled', 'active', 'quarantined'] as const) {
        if (cur.state === (o.state ?? 'active')) break;
        cur = await pki.devices.transition(d.id, s, 'test');
      }
      return cur;
    },
    close: () => pki.close(),
  };
}

/** An RSA public key of the given size, for the issuance hook. */
export function rsaPublicKey(bits: number): ReturnType<typeof generateKeyPairSync>['publicKey'] {
  return generateKeyPairSync('rsa', { modulusLength: bits }).publicKey;
}
