import { type Clock, systemClock } from '@medtrust/core';
import type { Kysely } from 'kysely';
import type { SecurityEventKind } from '../clinical/index.ts';
import type { Database } from '../db/index.ts';
import { canTransition, type Device, type DeviceState } from '../devices/index.ts';
import type { EventBus } from '../events/index.ts';
import type { CertificateStore } from '../pki/index.ts';
import type { PolicyAction } from './policy-document.ts';

/** What an action did: `done`, `skipped` (nothing to do, e.g. already quarantined) or `failed`. */
export interface ActionOutcome {
  readonly kind: PolicyAction['kind'];
  readonly outcome: 'done' | 'skipped' | 'failed';
  readonly detail: string;
}

/** The owning domains' services the actions go through (seams; the platform passes the real ones). */
export interface PolicyActionPorts {
  readonly devices: { transition(id: string, to: DeviceState, actor: string): Promise<Device> };
  readonly certificates: Pick<CertificateStore, 'currentForDevice'>;
  readonly revocation: { revoke(serial: string, reason: string, actor: string): Promise<unknown> };
  /** clinical AlertService; undefined when clinical alerts are not running in this process. */
  readonly alerts: { onSecurityEvent(e: { tenantId: string; deviceId: string | null; patientId: string | null; event: SecurityEventKind; atMs: number; details?: Readonly<Record<string, unknown>> }): Promise<void> } | undefined;
  readonly events: EventBus;
}

export interface ActionContext {
  readonly device: Device;
  readonly policyId: string;
  readonly policyName: string;
  readonly rule: string;
  readonly actor: string;
}

/** Runs policy actions through the domain services; one action failing does not stop the others. */
export class PolicyActions {
  readonly #ports: PolicyActionPorts;
  readonly #db: Kysely<Database>;
  readonly #clock: Clock;

  constructor(opts: { ports: PolicyActionPorts; db: Kysely<Database>; clock?: Clock }) {
    this.#ports = opts.ports;
    this.#db = opts.db;
    this.#clock = opts.clock ?? systemClock;
  }

  async run(actions: readonly PolicyAction[], ctx: ActionContext): Promise<ActionOutcome[]> {
    const out: ActionOutcome[] = [];
    for (const a of actions) {
      try {
        out.push(await this.#one(a, ctx));
      } catch (e) {
        const code = e && typeof e === 'object' && 'code' in e ? String((e).code) : 'INTERNAL';
        out.push({ kind: a.kind, outcome: 'failed', detail: code });
      }
    }
    return out;
  }

  /** What the actions would do, without doing it (dry run). */
  preview(actions: readonly PolicyAction[], device: Device): ActionOutcome[] {
    return actions.map((a) => {
      if (a.kind === 'quarantine') return device.state === 'quarantined' ? { kind: a.kind, outcome: 'skipped', detail: 'already quarantined' } : canTransition(device.state, 'quarantined') ? { kind: a.kind, outcome: 'done', detail: `${device.state} -> quarantined` } : { kind: a.kind, outcome: 'skipped', detail: `a ${device.state} device cannot be quarantined` };
      return { kind: a.kind, outcome: 'done', detail: describe(a) };
    });
  }

  async #one(a: PolicyAction, ctx: ActionContext): Promise<ActionOutcome> {
    const { device } = ctx;
    switch (a.kind) {
      case 'quarantine': {
        if (device.state === 'quarantined') return { kind: a.kind, outcome: 'skipped', detail: 'already quarantined' };
        if (!canTransition(device.state, 'quarantined')) return { kind: a.kind, outcome: 'skipped', detail: `a ${device.state} device cannot be quarantined` };
        await this.#ports.devices.transition(device.id, 'quarantined', ctx.actor);
        return { kind: a.kind, outcome: 'done', detail: `${device.state} -> quarantined` };
      }
      case 'revoke': {
        const cert = await this.#ports.certificates.currentForDevice(device.id, 'ldevid');
        if (!cert) return { kind: a.kind, outcome: 'skipped', detail: 'no current LDevID' };
        await this.#ports.revocation.revoke(cert.serial, a.reason ?? 'keyCompromise', ctx.actor);
        return { kind: a.kind, outcome: 'done', detail: `revoked ${cert.serial}` };
      }
      case 'alert': {
        if (!this.#ports.alerts) return { kind: a.kind, outcome: 'skipped', detail: 'clinical alerts are not running' };
        await this.#ports.alerts.onSecurityEvent({ tenantId: device.tenantId, deviceId: device.id, patientId: null, event: a.event, atMs: this.#clock.nowMs(), details: { policy: ctx.policyName, rule: ctx.rule } });
        return { kind: a.kind, outcome: 'done', detail: a.event };
      }
      case 'force-update': {
        // updates/ has no force flag: the flag is kept here and announced for campaigns to act on.
        await this.#flag(device.id, 'update-required', ctx.policyId);
        await this.#ports.events.publish({ kind: 'policy.force-update', deviceId: device.id, tenantId: device.tenantId, policyId: ctx.policyId });
        return { kind: a.kind, outcome: 'done', detail: 'update-required flag set' };
      }
      case 'notify': {
        if (a.flag) await this.#flag(device.id, a.flag, ctx.policyId);
        await this.#ports.events.publish({ kind: 'policy.notify', topic: a.topic, deviceId: device.id, tenantId: device.tenantId, policyId: ctx.policyId, flag: a.flag ?? null });
        return { kind: a.kind, outcome: 'done', detail: a.flag ? `${a.topic} (${a.flag})` : a.topic };
      }
      case 'deny':
        // The hook that asked throws POLICY_DENIED; recording it here is all there is to do.
        return { kind: a.kind, outcome: 'done', detail: 'refused' };
      default:
        return a satisfies never;
    }
  }

  async #flag(deviceId: string, flag: string, policyId: string): Promise<void> {
    await this.#db.insertInto('policy_device_flag').values({ device_id: deviceId, flag, policy_id: policyId, set_at: this.#clock.nowMs() })
      .onConflict((oc) => oc.columns(['device_id', 'flag']).doUpdateSet({ policy_id: policyId })).execute();
  }
}

function describe(a: PolicyAction): string {
  switch (a.kind) {
    case 'alert':
      return `security alert ${a.event}`;
    case 'revoke':
      return `revoke the current LDevID (${a.reason ?? 'keyCompromise'})`;
    case 'notify':
      return a.flag ? `notify ${a.topic}, flag ${a.flag}` : `notify ${a.topic}`;
    case 'force-update':
      return 'flag update-required';
    case 'deny':
      return 'refuse';
    case 'quarantine':
      return 'quarantine';
    default:
      return a satisfies never;
  }
}
