import { type DrugEntry, type DrugLibrary, findDrug } from '../drug-library/drug-library.ts';
import type { ClinicalErrorCode } from '../errors.ts';
import { checkLimits, type LimitCheck, type Limits, rateJumpRatio } from './limits.ts';

/** What a clinician asks an infusion pump to do. Doses are in the drug entry's dose unit. */
export type InfusionCommand =
  | { readonly kind: 'infusion.program'; readonly drug: string; readonly concentration?: number; readonly dose: number; readonly vtbiMl?: number; readonly weightKg?: number }
  | { readonly kind: 'infusion.change-rate'; readonly dose: number; readonly weightKg?: number }
  | { readonly kind: 'infusion.stop' };

/** What the pump last reported (device status message). */
export interface PumpState {
  readonly state: 'idle' | 'infusing' | 'paused' | 'alarm';
  readonly drug?: string;
  readonly concentration?: number;
  /** The running dose, in the drug entry's dose unit. */
  readonly dose?: number;
}

export interface Approvals {
  readonly overrideReason?: string;
  /** User id of a second clinician who approved; must differ from the requester. */
  readonly secondApproverId?: string;
  readonly confirmRateJump?: boolean;
}

export interface Finding {
  readonly rule: 'hard-limit' | 'soft-limit' | 'high-alert-second-approval' | 'rate-jump';
  readonly detail: string;
}

/** The engine's verdict: accepted with what was overridden, or refused with the code to return. */
export type SafetyDecision =
  | { readonly kind: 'accepted'; readonly findings: readonly Finding[]; readonly entry: DrugEntry | undefined }
  | { readonly kind: 'refused'; readonly code: ClinicalErrorCode; readonly findings: readonly Finding[]; readonly message: string };

const refuse = (code: ClinicalErrorCode, message: string, findings: Finding[]): SafetyDecision => ({ kind: 'refused', code, message, findings });

/**
 * Core limit logic shared by drug-library checks and declared device-class commands. Order:
 * hard limits (never overridable), then the decimal-jump check, then soft limits (override
 * reason; high-alert also a second clinician).
 */
function decide(args: { value: number; limits: Limits; unit: string; highAlert: boolean; runningValue: number | undefined; requesterId: string; approvals: Approvals; entry: DrugEntry | undefined }): SafetyDecision {
  const { value, limits, unit, approvals } = args;
  const findings: Finding[] = [];
  if (!Number.isFinite(value) || value < 0) return refuse('COMMAND_UNKNOWN', 'value must be a finite number >= 0', findings);
  const check: LimitCheck = checkLimits(value, limits);
  if (check.kind === 'hard') {
    findings.push({ rule: 'hard-limit', detail: `${value} ${unit} beyond ${check.bound} ${check.limit} ${unit}` });
    return refuse('LIMIT_HARD_EXCEEDED', `${value} ${unit} is beyond the hard limit ${check.limit} ${unit}`, findings);
  }
  const ratio = args.runningValue === undefined ? undefined : rateJumpRatio(args.runningValue, value);
  if (ratio !== undefined) {
    findings.push({ rule: 'rate-jump', detail: `${value} ${unit} is ${ratio.toFixed(1)}x the running ${args.runningValue} ${unit}` });
    if (approvals.confirmRateJump !== true) return refuse('RATE_JUMP_CONFIRMATION_REQUIRED', `new value is ${ratio.toFixed(1)}x the running value: confirm it`, findings);
  }
  if (check.kind === 'soft') {
    findings.push({ rule: 'soft-limit', detail: `${value} ${unit} beyond ${check.bound} ${check.limit} ${unit}` });
    if (!approvals.overrideReason || approvals.overrideReason.trim().length < 3) return refuse('OVERRIDE_REASON_REQUIRED', `${value} ${unit} is beyond the soft limit ${check.limit} ${unit}`, findings);
    if (args.highAlert) {
      findings.push({ rule: 'high-alert-second-approval', detail: 'high-alert drug beyond a soft limit' });
      // ISMP double check: the second clinician must be another person than the requester.
      if (!approvals.secondApproverId || approvals.secondApproverId === args.requesterId) return refuse('SECOND_APPROVAL_REQUIRED', 'a second clinician must approve this high-alert override', findings);
    }
  }
  return { kind: 'accepted', findings, entry: args.entry };
}

/** Checks an infusion command against the drug library and the pump's running state. */
export function checkInfusionCommand(args: { command: InfusionCommand; careArea: string; library: DrugLibrary; pump: PumpState; requesterId: string; approvals?: Approvals }): SafetyDecision {
  const { command, pump } = args;
  const approvals = args.approvals ?? {};
  switch (command.kind) {
    case 'infusion.stop':
      // Stopping is always allowed: the safe state of a pump is not infusing.
      return { kind: 'accepted', findings: [], entry: undefined };
    case 'infusion.program': {
      const entry = findDrug(args.library, args.careArea, command.drug, command.concentration);
      if (!entry) return refuse('DRUG_NOT_IN_LIBRARY', `${command.drug} is not in the ${args.careArea} library`, []);
      const sameDrugRunning = pump.state === 'infusing' && pump.drug?.toLowerCase() === entry.drug.toLowerCase() && pump.concentration === entry.concentration;
      return decide({ value: command.dose, limits: entry.limits, unit: entry.doseUnit, highAlert: entry.highAlert, runningValue: sameDrugRunning ? pump.dose : undefined, requesterId: args.requesterId, approvals, entry });
    }
    case 'infusion.change-rate': {
      if (!pump.drug) return refuse('COMMAND_UNKNOWN', 'the pump reports no programmed drug to change the rate of', []);
      const entry = findDrug(args.library, args.careArea, pump.drug, pump.concentration);
      if (!entry) return refuse('DRUG_NOT_IN_LIBRARY', `${pump.drug} is not in the ${args.careArea} library`, []);
      return decide({ value: command.dose, limits: entry.limits, unit: entry.doseUnit, highAlert: entry.highAlert, runningValue: pump.state === 'infusing' ? pump.dose : undefined, requesterId: args.requesterId, approvals, entry });
    }
    default:
      return command satisfies never;
  }
}

/** A command another device class declares (pacing rate, alarm limit) with its parameter limits. */
export interface CommandSpec {
  readonly deviceClass: string;
  readonly kind: string;
  readonly params: Readonly<Record<string, Limits & { readonly unit: string; readonly highAlert?: boolean }>>;
}

/** Checks a declared command's parameters with the same rules as the drug library. */
export function checkDeclaredCommand(args: { spec: CommandSpec; params: Readonly<Record<string, unknown>>; current?: Readonly<Record<string, number>>; requesterId: string; approvals?: Approvals }): SafetyDecision {
  const findings: Finding[] = [];
  for (const name of Object.keys(args.params)) if (!(name in args.spec.params)) return refuse('COMMAND_UNKNOWN', `${args.spec.kind} has no parameter ${name}`, []);
  for (const [name, p] of Object.entries(args.spec.params)) {
    const value = args.params[name];
    if (typeof value !== 'number') return refuse('COMMAND_UNKNOWN', `parameter ${name} must be a number`, []);
    const d = decide({ value, limits: p, unit: p.unit, highAlert: p.highAlert ?? false, runningValue: args.current?.[name], requesterId: args.requesterId, approvals: args.approvals ?? {}, entry: undefined });
    if (d.kind === 'refused') return { ...d, findings: [...findings, ...d.findings] };
    findings.push(...d.findings);
  }
  return { kind: 'accepted', findings, entry: undefined };
}
