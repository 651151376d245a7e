import { randomBytes } from 'node:crypto';
import { type Clock, type CommandEnvelope, isMedTrustError, type MedTrustError, newId, type SignedCommand, signCommand, systemClock } from '@medtrust/core';
import type { Kysely } from 'kysely';
import type { AuditLog } from '../../audit/index.ts';
import type { Database } from '../../db/index.ts';
import { doseToMlPerHour, type DrugEntry } from '../drug-library/drug-library.ts';
import type { DrugLibraryService } from '../drug-library/drug-library-service.ts';
import { ClinicalError, type ClinicalErrorCode } from '../errors.ts';
import type { CommandAck } from './command-ack.ts';
import { CommandResults } from './command-results.ts';
import { type Approvals, checkInfusionCommand, type Finding, type InfusionCommand, type PumpState, type SafetyDecision } from './command-safety.ts';

/** Signs commands with the platform command key (an ECDSA P-256 key in the key store). */
export interface CommandSigner {
  readonly alg: 'ES256' | 'EdDSA';
  readonly keyId: string;
  sign(data: Buffer): Buffer;
}

/** Where the platform learns what a device is and what a pump is doing. */
export interface CommandDeviceDirectory {
  /** The device's tenant and lifecycle state; undefined when unknown. */
  device(deviceId: string): Promise<{ readonly tenantId: string; readonly state: string } | undefined>;
  /** The pump's last reported status, with the volume rate in mL/h. */
  pumpStatus(deviceId: string): Promise<{ readonly state: PumpState['state']; readonly drug?: string; readonly concentration?: number; readonly rateMlPerH?: number } | undefined>;
}

/** Delivers a signed command to the device (MQTT `devices/{id}/commands`). */
export interface CommandTransport {
  send(deviceId: string, signed: SignedCommand): Promise<void>;
}

/** The policy engine's command hook (policy/ PolicyEngine.checkCommand); throws POLICY_DENIED to refuse. */
export interface CommandPolicyCheck {
  checkCommand(c: { deviceId: string; kind: string }): Promise<void>;
}

export interface CommandRequest {
  readonly tenantScope: string | null;
  readonly actor: string;
  readonly deviceId: string;
  readonly careArea: string;
  readonly command: InfusionCommand;
  readonly overrideReason?: string;
  readonly confirmRateJump?: boolean;
}

export interface CommandView {
  readonly id: string;
  readonly deviceId: string;
  readonly kind: string;
  readonly status: Database['device_command']['status'];
  readonly refusalCode: string | null;
  readonly findings: readonly Finding[];
  readonly requestedBy: string;
  readonly secondApprover: string | null;
  readonly issuedAt: string | null;
  readonly expiresAt: string | null;
  readonly ackDetail: string | null;
}

type Row = Database['device_command'];
const view = (r: Row): CommandView => ({
  id: r.id, deviceId: r.device_id, kind: r.kind, status: r.status, refusalCode: r.refusal_code, findings: JSON.parse(r.findings) as Finding[],
  requestedBy: r.requested_by, secondApprover: r.second_approver, issuedAt: r.issued_at === null ? null : new Date(r.issued_at).toISOString(),
  expiresAt: r.expires_at === null ? null : new Date(r.expires_at).toISOString(), ackDetail: r.ack_detail,
});

const COMMANDABLE_STATES = new Set(['enrolled', 'active']);

/**
 * Safe infusion commands: checked against the drug library and the pump's running state, held
 * for a second clinician when the rules say so, signed with a nonce and an expiry, sent, and
 * acknowledged by the device, which verifies and re-checks them. Every step is audited.
 */
export class CommandService {
  readonly #db: Kysely<Database>;
  readonly #audit: AuditLog;
  readonly #clock: Clock;
  readonly #libraries: DrugLibraryService;
  readonly #devices: CommandDeviceDirectory;
  readonly #signer: () => Promise<CommandSigner>;
  readonly #transport: CommandTransport;
  readonly #ttlMs: number;
  readonly #policy: CommandPolicyCheck | undefined;

  constructor(opts: { db: Kysely<Database>; audit: AuditLog; libraries: DrugLibraryService; devices: CommandDeviceDirectory; signer: () => Promise<CommandSigner>; transport: CommandTransport; clock?: Clock; ttlMs?: number; policy?: CommandPolicyCheck }) {
    this.#db = opts.db;
    this.#audit = opts.audit;
    this.#clock = opts.clock ?? systemClock;
    this.#libraries = opts.libraries;
    this.#devices = opts.devices;
    this.#signer = opts.signer;
    this.#transport = opts.transport;
    this.#ttlMs = opts.ttlMs ?? 60_000;
    this.#policy = opts.policy;
  }

  /** Checks and, when allowed, issues a command; a high-alert override waits for a second clinician. */
  async request(req: CommandRequest): Promise<CommandView> {
    const device = await this.#devices.device(req.deviceId);
    if (!device || (req.tenantScope !== null && device.tenantId !== req.tenantScope)) throw new ClinicalError('COMMAND_NOT_FOUND', `no device ${req.deviceId} in your tenant`);
    const id = newId('cmd');
    const now = this.#clock.nowMs();
    const base: Row = {
      id, tenant_id: device.tenantId, device_id: req.deviceId, kind: req.command.kind, request: JSON.stringify(req.command), care_area: req.careArea,
      requested_by: req.actor, override_reason: req.overrideReason ?? null, confirm_rate_jump: req.confirmRateJump ? 1 : 0, second_approver: null,
      status: 'refused', refusal_code: null, findings: '[]', drug_library_version: null, signed: null, nonce: null, issued_at: null, expires_at: null,
      acked_at: null, ack_detail: null, created_at: now,
    };
    // docs/policy.md: command policies are asked first so that their decision is recorded even where
    // the built-in floor below would refuse too. Stopping an infusion is the safe direction: no policy blocks it.
    if (this.#policy && req.command.kind !== 'infusion.stop') {
      try {
        await this.#policy.checkCommand({ deviceId: req.deviceId, kind: req.command.kind });
      } catch (e) {
        if (isMedTrustError(e) && e.code === 'POLICY_DENIED') return this.#refusedByPolicy(base, e);
        throw e;
      }
    }
    // Policy: block commands to quarantined devices (and any device not in operation).
    if (!COMMANDABLE_STATES.has(device.state) && req.command.kind !== 'infusion.stop') return this.#refuse(base, 'DEVICE_NOT_COMMANDABLE', `device is ${device.state}`, []);
    const { decision, libraryVersion } = await this.#decide(device.tenantId, req.deviceId, req.careArea, req.command, req.actor, { overrideReason: req.overrideReason, confirmRateJump: req.confirmRateJump });
    const row: Row = { ...base, drug_library_version: libraryVersion, findings: JSON.stringify(decision.findings) };
    if (decision.kind === 'refused') {
      if (decision.code === 'SECOND_APPROVAL_REQUIRED') {
        await this.#db.insertInto('device_command').values({ ...row, status: 'pending-approval', refusal_code: decision.code, expires_at: now + 15 * 60_000 }).execute();
        await this.#audit.append({ actor: req.actor, action: 'command.pending-approval', target: `command:${id}`, tenantId: device.tenantId, details: { deviceId: req.deviceId, kind: req.command.kind, findings: decision.findings } });
        return this.get(req.tenantScope, id);
      }
      return this.#refuse(row, decision.code, decision.message, decision.findings);
    }
    await this.#db.insertInto('device_command').values({ ...row, status: 'issued' }).execute();
    await this.#audit.append({ actor: req.actor, action: 'command.accepted', target: `command:${id}`, tenantId: device.tenantId, details: { deviceId: req.deviceId, kind: req.command.kind, findings: decision.findings, overrideReason: req.overrideReason ?? null } });
    return this.#issue(id, req.deviceId, req.command, decision, req.tenantScope);
  }

  /** A second clinician approves a held command; the checks run again on the pump's current state. */
  async approve(tenantScope: string | null, id: string, approver: string): Promise<CommandView> {
    const row = await this.#row(tenantScope, id);
    const now = this.#clock.nowMs();
    if (row.status !== 'pending-approval' || (row.expires_at !== null && row.expires_at <= now)) throw new ClinicalError('COMMAND_STATE_INVALID', `command is ${row.status}`);
    // ISMP independent double check: the approver must be another person.
    if (approver === row.requested_by) throw new ClinicalError('COMMAND_STATE_INVALID', 'the requester cannot approve their own command');
    const command = JSON.parse(row.request) as InfusionCommand;
    // The device may have been quarantined while the command waited: the policy hook and the floor apply again.
    if (command.kind !== 'infusion.stop') await this.#recheckDevice(row, approver);
    const { decision } = await this.#decide(row.tenant_id, row.device_id, row.care_area ?? '', command, row.requested_by, { overrideReason: row.override_reason ?? undefined, confirmRateJump: row.confirm_rate_jump === 1, secondApproverId: approver });
    const u = await this.#db.updateTable('device_command').set({ second_approver: approver, findings: JSON.stringify(decision.findings), ...(decision.kind === 'refused' ? { status: 'refused', refusal_code: decision.code } : { status: 'issued', refusal_code: null }) })
      .where('id', '=', id).where('status', '=', 'pending-approval').executeTakeFirst();
    if (Number(u.numUpdatedRows) !== 1) throw new ClinicalError('COMMAND_STATE_INVALID', 'command changed meanwhile');
    await this.#audit.append({ actor: approver, action: decision.kind === 'refused' ? 'command.refused' : 'command.approved', target: `command:${id}`, tenantId: row.tenant_id, outcome: decision.kind === 'refused' ? 'denied' : 'success', details: { findings: decision.findings } });
    if (decision.kind === 'refused') throw new ClinicalError(decision.code, decision.message, { details: { commandId: id, findings: decision.findings } });
    return this.#issue(id, row.device_id, command, decision, tenantScope);
  }

  /** A device's report on a command; the gateway path is CommandResults.onPayload, which this shares. */
  async onAck(deviceId: string, ack: CommandAck): Promise<void> {
    const device = await this.#devices.device(deviceId);
    if (!device) return;
    await new CommandResults({ db: this.#db, audit: this.#audit, clock: this.#clock }).record({ deviceId, tenantId: device.tenantId }, ack);
  }

  /** COMMAND_NOT_FOUND unless the device exists in the caller's tenant (checked before anything else). */
  async assertDeviceVisible(tenantScope: string | null, deviceId: string): Promise<void> {
    const device = await this.#devices.device(deviceId);
    if (!device || (tenantScope !== null && device.tenantId !== tenantScope)) throw new ClinicalError('COMMAND_NOT_FOUND', `no device ${deviceId} in your tenant`);
  }

  async get(tenantScope: string | null, id: string): Promise<CommandView> {
    return view(await this.#row(tenantScope, id));
  }

  async list(tenantScope: string | null, deviceId: string, limit = 50): Promise<CommandView[]> {
    await this.assertDeviceVisible(tenantScope, deviceId);
    let q = this.#db.selectFrom('device_command').selectAll().where('device_id', '=', deviceId).orderBy('created_at', 'desc').limit(Math.min(limit, 200));
    if (tenantScope !== null) q = q.where('tenant_id', '=', tenantScope);
    return (await q.execute()).map(view);
  }

  async #row(tenantScope: string | null, id: string): Promise<Row> {
    let q = this.#db.selectFrom('device_command').selectAll().where('id', '=', id);
    if (tenantScope !== null) q = q.where('tenant_id', '=', tenantScope);
    const row = await q.executeTakeFirst();
    if (!row) throw new ClinicalError('COMMAND_NOT_FOUND', `no command ${id}`);
    return row;
  }

  async #decide(tenantId: string, deviceId: string, careArea: string, command: InfusionCommand, requesterId: string, approvals: Approvals): Promise<{ decision: SafetyDecision; libraryVersion: number | null }> {
    if (command.kind === 'infusion.stop') return { decision: { kind: 'accepted', findings: [], entry: undefined }, libraryVersion: null };
    const library = await this.#libraries.active(tenantId);
    if (!library) throw new ClinicalError('NO_DRUG_LIBRARY', 'no drug library for this tenant');
    const status = await this.#devices.pumpStatus(deviceId);
    const pump = toPumpState(status, library.entries, careArea, command);
    return { decision: checkInfusionCommand({ command, careArea, library, pump, requesterId, approvals }), libraryVersion: library.version };
  }

  async #refuse(row: Row, code: ClinicalErrorCode, message: string, findings: readonly Finding[]): Promise<never> {
    await this.#db.insertInto('device_command').values({ ...row, status: 'refused', refusal_code: code, findings: JSON.stringify(findings) }).execute();
    await this.#audit.append({ actor: row.requested_by, action: 'command.refused', target: `command:${row.id}`, tenantId: row.tenant_id, outcome: 'denied', details: { deviceId: row.device_id, kind: row.kind, code, findings } });
    throw new ClinicalError(code, message, { details: { commandId: row.id, findings } });
  }

  /** Refuses a held command (status pending-approval -> refused) when a policy or the state floor says no. */
  async #recheckDevice(row: Row, approver: string): Promise<void> {
    let refusal: MedTrustError<string> | undefined;
    try {
      await this.#policy?.checkCommand({ deviceId: row.device_id, kind: row.kind });
    } catch (e) {
      if (!isMedTrustError(e) || e.code !== 'POLICY_DENIED') throw e;
      refusal = e;
    }
    const device = await this.#devices.device(row.device_id);
    if (!refusal && (!device || !COMMANDABLE_STATES.has(device.state))) refusal = new ClinicalError('DEVICE_NOT_COMMANDABLE', `device is ${device?.state ?? 'gone'}`, { details: { commandId: row.id } });
    if (!refusal) return;
    const u = await this.#db.updateTable('device_command').set({ status: 'refused', refusal_code: refusal.code, second_approver: approver }).where('id', '=', row.id).where('status', '=', 'pending-approval').executeTakeFirst();
    if (Number(u.numUpdatedRows) !== 1) throw new ClinicalError('COMMAND_STATE_INVALID', 'command changed meanwhile');
    await this.#audit.append({ actor: approver, action: 'command.refused', target: `command:${row.id}`, tenantId: row.tenant_id, outcome: 'denied', details: { deviceId: row.device_id, kind: row.kind, code: refusal.code, policy: refusal.code === 'POLICY_DENIED' ? (refusal.details ?? null) : null } });
    throw refusal;
  }

  async #refusedByPolicy(row: Row, e: MedTrustError<string>): Promise<never> {
    await this.#db.insertInto('device_command').values({ ...row, status: 'refused', refusal_code: e.code }).execute();
    await this.#audit.append({ actor: row.requested_by, action: 'command.refused', target: `command:${row.id}`, tenantId: row.tenant_id, outcome: 'denied', details: { deviceId: row.device_id, kind: row.kind, code: e.code, policy: e.details ?? null } });
    throw e;
  }

  async #issue(id: string, deviceId: string, command: InfusionCommand, decision: SafetyDecision, tenantScope: string | null): Promise<CommandView> {
    const entry = decision.kind === 'accepted' ? decision.entry : undefined;
    const now = this.#clock.nowMs();
    const envelope: CommandEnvelope = {
      v: 1, id, deviceId, kind: command.kind, params: paramsFor(command, entry), nonce: randomBytes(16).toString('base64url'),
      issuedAtMs: now, expiresAtMs: now + this.#ttlMs,
      ...(entry && command.kind !== 'infusion.stop' ? { limits: { dose: { ...(entry.limits.hardMin !== undefined ? { hardMin: entry.limits.hardMin } : {}), ...(entry.limits.hardMax !== undefined ? { hardMax: entry.limits.hardMax } : {}) } } } : {}),
    };
    const signed = signCommand(envelope, await this.#signer());
    await this.#db.updateTable('device_command').set({ signed: JSON.stringify(signed), nonce: envelope.nonce, issued_at: now, expires_at: envelope.expiresAtMs, status: 'issued' }).where('id', '=', id).execute();
    await this.#transport.send(deviceId, signed);
    const row = await this.#row(null, id);
    await this.#audit.append({ actor: 'system', action: 'command.issued', target: `command:${id}`, tenantId: row.tenant_id, details: { deviceId, nonce: envelope.nonce, expiresAtMs: envelope.expiresAtMs } });
    return this.get(tenantScope, id);
  }
}

/** The pump's running dose in the drug's dose unit, when it runs the drug the command is about. */
function toPumpState(status: Awaited<ReturnType<CommandDeviceDirectory['pumpStatus']>>, entries: readonly DrugEntry[], careArea: string, command: InfusionCommand): PumpState {
  if (!status) return { state: 'idle' };
  const drug = status.drug;
  const entry = drug ? entries.find((e) => e.careArea === careArea && e.drug.toLowerCase() === drug.toLowerCase() && (status.concentration === undefined || e.concentration === status.concentration)) : undefined;
  const weightKg = 'weightKg' in command ? command.weightKg : undefined;
  let dose: number | undefined;
  if (entry && status.rateMlPerH !== undefined) {
    try {
      dose = status.rateMlPerH / doseToMlPerHour(entry, 1, weightKg);
    } catch {
      dose = undefined;
    }
  }
  return { state: status.state, drug: status.drug, concentration: entry?.concentration ?? status.concentration, dose };
}

/** What the device needs to run the command: the dose and, for the pump, the volume rate. */
function paramsFor(command: InfusionCommand, entry: DrugEntry | undefined): Record<string, unknown> {
  switch (command.kind) {
    case 'infusion.stop':
      return {};
    case 'infusion.program':
    case 'infusion.change-rate': {
      const rateMlPerH = entry ? Math.round(doseToMlPerHour(entry, command.dose, command.weightKg) * 1000) / 1000 : undefined;
      return { ...command, kind: undefined, ...(entry ? { drug: entry.drug, concentration: entry.concentration, concentrationUnit: entry.concentrationUnit, doseUnit: entry.doseUnit } : {}), rateMlPerH };
    }
    default:
      return command satisfies never;
  }
}
