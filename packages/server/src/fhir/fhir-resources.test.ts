import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fhirSchemaErrors } from './fhir-schema.ts';
import { toDevice, toDeviceMetric, toObservation, toPatient, type VitalSample } from './fhir-resources.ts';

const at = Date.UTC(2026, 10, 23, 3, 0, 0);
const samples: VitalSample[] = [
  { id: 'obs-hr', deviceId: 'dev_1', patientId: 'pat_1', atMs: at, kind: 'heart-rate', value: 72 },
  { id: 'obs-spo2', deviceId: 'dev_1', patientId: 'pat_1', atMs: at, kind: 'spo2', value: 97 },
  { id: 'obs-temp', deviceId: 'dev_1', patientId: 'pat_1', atMs: at, kind: 'body-temperature', value: 37.2 },
  { id: 'obs-bp', deviceId: 'dev_1', patientId: 'pat_1', atMs: at, kind: 'blood-pressure', systolic: 120, diastolic: 80, mean: 93 },
  { id: 'obs-rr', deviceId: 'dev_1', patientId: null, atMs: at, kind: 'respiratory-rate', value: 16 },
  { id: 'obs-glu', deviceId: 'dev_2', patientId: 'pat_2', atMs: at, kind: 'glucose', value: 64 },
];

function codes(r: Record<string, unknown>): string[] {
  return ((r.code as { coding: Array<{ code: string }> }).coding).map((c) => c.code);
}

describe('FHIR R4 mapping', () => {
  it('emits Observations that validate against the official FHIR R4 JSON schema', () => {
    for (const s of samples) assert.deepEqual(fhirSchemaErrors(toObservation(s)), [], s.kind);
  });

  it('uses the vital-signs LOINC codes first and IEEE 11073 codes as additional codings', () => {
    const [hr, spo2, temp, bp, rr, glu] = samples.map(toObservation);
    assert.deepEqual(codes(hr!), ['8867-4', '147842']);
    assert.deepEqual(codes(spo2!), ['2708-6', '59408-5', '150456']);
    assert.equal(codes(temp!)[0], '8310-5');
    assert.equal(codes(bp!)[0], '85354-9');
    const comps = (bp!.component as Array<{ code: { coding: Array<{ code: string }> }; valueQuantity: { value: number; code: string } }>);
    assert.deepEqual(comps.map((c) => c.code.coding[0]!.code), ['8480-6', '8462-4', '8478-0']);
    assert.equal(comps[0]!.valueQuantity.code, 'mm[Hg]');
    assert.equal(codes(rr!)[0], '9279-1');
    assert.equal(codes(glu!)[0], '2339-0');
    assert.equal(glu!.meta, undefined, 'glucose is a plain Observation, not vital-signs');
  });

  it('emits Device, DeviceMetric and Patient that validate', () => {
    const device = toDevice({ id: 'dev_1', serial: 'SN-0001', model: 'PumpX', manufacturer: 'MedTrust Devices', firmwareVersion: '2.4.1', udiDeviceIdentifier: '00844588003288', udiCarrierHrf: '(01)00844588003288(21)SN-0001', state: 'active', patientId: 'pat_1' });
    assert.deepEqual(fhirSchemaErrors(device), []);
    assert.deepEqual((device.version as Array<{ value: string }>)[0]!.value, '2.4.1');
    assert.deepEqual(fhirSchemaErrors(toDeviceMetric('dev_1', 'spo2')), []);
    assert.deepEqual(fhirSchemaErrors(toPatient({ id: 'pat_1', mrn: 'MRN-1', mrnSystem: 'urn:oid:2.16.840.1.113883.3.1', family: 'Doe', given: ['Jane'], birthDate: '1960-02-01' })), []);
  });

  it('catches an invalid resource (the validator can fail)', () => {
    const bad = { ...toObservation(samples[0]!), status: 'almost-final', valueQuantity: { value: 'seventy' } };
    assert.ok(fhirSchemaErrors(bad).length > 0);
  });
});
