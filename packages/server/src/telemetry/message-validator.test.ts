import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '@medtrust/core';
import { MessageValidator } from './message-validator.ts';

const NOW = 1_790_000_000_000;
const clock = new ManualClock(NOW);
const validator = new MessageValidator({ clock });

const vitals = (over: Record<string, unknown> = {}, vit: Record<string, unknown> = { heartRate: { value: 72, unit: '/min' } }): string =>
  JSON.stringify({ v: 1, id: 'm-1', ts: NOW - 1000, kind: 'vitals', vitals: vit, ...over });

function codeOf(payload: unknown): string {
  const r = validator.validate(payload);
  return r.ok ? 'OK' : r.error.code;
}

describe('MessageValidator', () => {
  describe('when the message is well formed', () => {
    it('accepts every vital with its unit', () => {
      const r = validator.validate(vitals({}, {
        heartRate: { value: 72, unit: '/min' }, spo2: { value: 97, unit: '%' }, bodyTemperature: { value: 36.8, unit: 'Cel' },
        nibp: { systolic: 120, diastolic: 80, mean: 93, unit: 'mm[Hg]' }, respiratoryRate: { value: 14, unit: '/min' }, glucose: { value: 105, unit: 'mg/dL' },
      }));
      assert.equal(r.ok, true);
    });
    it('accepts infusion status and device health', () => {
      assert.equal(codeOf(JSON.stringify({ v: 1, id: 'i-1', ts: NOW, kind: 'infusion', infusion: { drug: 'heparin', concentration: { value: 100, unit: '[iU]/mL' }, rateMlPerH: 12.5, vtbiMl: 250, volumeInfusedMl: 10, state: 'alarm', alarms: ['occlusion', 'low-battery'] } })), 'OK');
      assert.equal(codeOf(Buffer.from(JSON.stringify({ v: 1, id: 'h-1', ts: NOW, kind: 'health', health: { batteryPct: 80, firmwareVersion: '2.1.0', uptimeS: 3600, errorCodes: ['E12'] } }))), 'OK');
    });
    it('accepts a buffered reading inside the backfill window', () => {
      assert.equal(codeOf(vitals({ ts: NOW - 6 * 24 * 3_600_000 })), 'OK');
    });
  });

  describe('when the message is bad', () => {
    it('refuses what is not a JSON object', () => {
      assert.equal(codeOf(Buffer.from('{not json')), 'MESSAGE_MALFORMED');
      assert.equal(codeOf('[1,2]'), 'MESSAGE_MALFORMED');
      assert.equal(codeOf(Buffer.alloc(0)), 'MESSAGE_MALFORMED');
    });
    it('refuses a payload over the size limit', () => {
      assert.equal(codeOf(Buffer.alloc(17 * 1024, 0x20)), 'MESSAGE_TOO_LARGE');
    });
    it('refuses an unknown protocol version', () => {
      assert.equal(codeOf(vitals({ v: 2 })), 'MESSAGE_VERSION_UNSUPPORTED');
    });
    it('refuses schema violations: missing id, unknown kind, wrong unit, unknown field, empty vitals', () => {
      assert.equal(codeOf(vitals({ id: undefined })), 'MESSAGE_INVALID');
      assert.equal(codeOf(vitals({ kind: 'bogus' })), 'MESSAGE_INVALID');
      assert.equal(codeOf(vitals({}, { heartRate: { value: 72, unit: 'bpm' } })), 'MESSAGE_INVALID');
      assert.equal(codeOf(vitals({ extra: 1 })), 'MESSAGE_INVALID');
      assert.equal(codeOf(vitals({}, {})), 'MESSAGE_INVALID');
      assert.equal(codeOf(vitals({ ts: 'yesterday' })), 'MESSAGE_INVALID');
      assert.equal(codeOf(vitals({ id: 'has space' })), 'MESSAGE_INVALID');
    });
    it('refuses physiologically impossible values', () => {
      assert.equal(codeOf(vitals({}, { heartRate: { value: 720, unit: '/min' } })), 'VALUE_OUT_OF_RANGE');
      assert.equal(codeOf(vitals({}, { spo2: { value: 101, unit: '%' } })), 'VALUE_OUT_OF_RANGE');
      assert.equal(codeOf(vitals({}, { bodyTemperature: { value: 60, unit: 'Cel' } })), 'VALUE_OUT_OF_RANGE');
      assert.equal(codeOf(vitals({}, { nibp: { systolic: 80, diastolic: 120, unit: 'mm[Hg]' } })), 'VALUE_OUT_OF_RANGE');
      assert.equal(codeOf(vitals({}, { glucose: { value: -5, unit: 'mg/dL' } })), 'VALUE_OUT_OF_RANGE');
    });
    it('refuses timestamps too far in the future or older than the backfill window', () => {
      assert.equal(codeOf(vitals({ ts: NOW + 10 * 60_000 })), 'TIMESTAMP_IN_FUTURE');
      assert.equal(codeOf(vitals({ ts: NOW - 8 * 24 * 3_600_000 })), 'TIMESTAMP_TOO_OLD');
    });
  });
});
