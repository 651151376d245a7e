import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { DrugLibrary } from '../drug-library/drug-library.ts';
import { parseDrugLibrary } from '../drug-library/parse-drug-library.ts';
import { checkDeclaredCommand, checkInfusionCommand, type CommandSpec, type PumpState, type SafetyDecision } from './command-safety.ts';

const library: DrugLibrary = { version: 1, entries: parseDrugLibrary(readFileSync(new URL('../fixtures/icu-drug-library.csv', import.meta.url), 'utf8'), 'csv') };
const heparinRunning: PumpState = { state: 'infusing', drug: 'Heparin', concentration: 100, dose: 180 };

function code(d: SafetyDecision): string {
  return d.kind === 'accepted' ? 'accepted' : d.code;
}

describe('checkInfusionCommand', () => {
  describe('when a heparin rate is keyed at 10x the running rate', () => {
    it('stops it even though it is inside the hard limit, until confirmed', () => {
      const d = checkInfusionCommand({ command: { kind: 'infusion.change-rate', dose: 1800 }, careArea: 'ICU', library, pump: heparinRunning, requesterId: 'u1' });
      assert.equal(code(d), 'RATE_JUMP_CONFIRMATION_REQUIRED');
      const confirmed = checkInfusionCommand({ command: { kind: 'infusion.change-rate', dose: 1800 }, careArea: 'ICU', library, pump: heparinRunning, requesterId: 'u1', approvals: { confirmRateJump: true } });
      assert.equal(code(confirmed), 'accepted');
      assert.ok(confirmed.findings.some((f) => f.rule === 'rate-jump'));
    });

    it('catches a misplaced decimal downwards too (1/10)', () => {
      const d = checkInfusionCommand({ command: { kind: 'infusion.change-rate', dose: 18 }, careArea: 'ICU', library, pump: heparinRunning, requesterId: 'u1' });
      // 18 units/h is also under the soft minimum; the jump is reported first.
      assert.equal(code(d), 'RATE_JUMP_CONFIRMATION_REQUIRED');
    });

    it('lets an ordinary titration through', () => {
      assert.equal(code(checkInfusionCommand({ command: { kind: 'infusion.change-rate', dose: 360 }, careArea: 'ICU', library, pump: heparinRunning, requesterId: 'u1' })), 'accepted');
    });
  });

  it('refuses beyond a hard limit whatever the approvals', () => {
    const d = checkInfusionCommand({ command: { kind: 'infusion.program', drug: 'heparin', dose: 3500 }, careArea: 'ICU', library, pump: { state: 'idle' }, requesterId: 'u1', approvals: { overrideReason: 'protocol', secondApproverId: 'u2', confirmRateJump: true } });
    assert.equal(code(d), 'LIMIT_HARD_EXCEEDED');
  });

  describe('when beyond a soft limit', () => {
    it('needs a reason for an ordinary drug', () => {
      const base = { command: { kind: 'infusion.program', drug: 'Sodium chloride 0.9%', dose: 600 } as const, careArea: 'ICU', library, pump: { state: 'idle' } as const, requesterId: 'u1' };
      assert.equal(code(checkInfusionCommand(base)), 'OVERRIDE_REASON_REQUIRED');
      assert.equal(code(checkInfusionCommand({ ...base, approvals: { overrideReason: 'fluid challenge per protocol' } })), 'accepted');
    });

    it('needs a second clinician, not the requester, for a high-alert drug', () => {
      const base = { command: { kind: 'infusion.program', drug: 'Norepinephrine', dose: 40 } as const, careArea: 'ICU', library, pump: { state: 'idle' } as const, requesterId: 'u1' };
      assert.equal(code(checkInfusionCommand({ ...base, approvals: { overrideReason: 'refractory shock' } })), 'SECOND_APPROVAL_REQUIRED');
      assert.equal(code(checkInfusionCommand({ ...base, approvals: { overrideReason: 'refractory shock', secondApproverId: 'u1' } })), 'SECOND_APPROVAL_REQUIRED');
      assert.equal(code(checkInfusionCommand({ ...base, approvals: { overrideReason: 'refractory shock', secondApproverId: 'u2' } })), 'accepted');
    });
  });

  it('refuses a drug outside the care area library, and a negative or non-finite dose', () => {
    assert.equal(code(checkInfusionCommand({ command: { kind: 'infusion.program', drug: 'Insulin', dose: 2 }, careArea: 'ICU', library, pump: { state: 'idle' }, requesterId: 'u1' })), 'DRUG_NOT_IN_LIBRARY');
    assert.equal(code(checkInfusionCommand({ command: { kind: 'infusion.program', drug: 'Heparin', dose: 500 }, careArea: 'NICU', library, pump: { state: 'idle' }, requesterId: 'u1' })), 'DRUG_NOT_IN_LIBRARY');
    assert.equal(code(checkInfusionCommand({ command: { kind: 'infusion.program', drug: 'Heparin', dose: -1 }, careArea: 'ICU', library, pump: { state: 'idle' }, requesterId: 'u1' })), 'COMMAND_UNKNOWN');
    assert.equal(code(checkInfusionCommand({ command: { kind: 'infusion.program', drug: 'Heparin', dose: Number.NaN }, careArea: 'ICU', library, pump: { state: 'idle' }, requesterId: 'u1' })), 'COMMAND_UNKNOWN');
  });

  it('always allows stop', () => {
    assert.equal(code(checkInfusionCommand({ command: { kind: 'infusion.stop' }, careArea: 'ICU', library, pump: heparinRunning, requesterId: 'u1' })), 'accepted');
  });
});

describe('checkDeclaredCommand', () => {
  const pacing: CommandSpec = { deviceClass: 'pacemaker', kind: 'pacing.set-rate', params: { rateBpm: { unit: 'bpm', hardMin: 30, softMin: 50, softMax: 120, hardMax: 180, highAlert: true } } };

  it('applies the same engine to a pacing-rate change', () => {
    assert.equal(code(checkDeclaredCommand({ spec: pacing, params: { rateBpm: 70 }, current: { rateBpm: 60 }, requesterId: 'u1' })), 'accepted');
    assert.equal(code(checkDeclaredCommand({ spec: pacing, params: { rateBpm: 200 }, requesterId: 'u1' })), 'LIMIT_HARD_EXCEEDED');
    assert.equal(code(checkDeclaredCommand({ spec: pacing, params: { rateBpm: 130 }, requesterId: 'u1', approvals: { overrideReason: 'exercise test' } })), 'SECOND_APPROVAL_REQUIRED');
    assert.equal(code(checkDeclaredCommand({ spec: pacing, params: { rateBpm: 'fast' }, requesterId: 'u1' })), 'COMMAND_UNKNOWN');
    assert.equal(code(checkDeclaredCommand({ spec: pacing, params: { rateBpm: 70, mode: 1 }, requesterId: 'u1' })), 'COMMAND_UNKNOWN');
  });
});
