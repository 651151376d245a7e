import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MedTrustError } from '@medtrust/core';
import { parseDrugLibrary } from './parse-drug-library.ts';

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof MedTrustError);
    assert.equal(e.code, 'DRUG_LIBRARY_INVALID');
    return e.details?.problems as string[];
  }
  assert.fail('expected DRUG_LIBRARY_INVALID');
}

describe('parseDrugLibrary', () => {
  it('reads JSON with nested limits', () => {
    const [e] = parseDrugLibrary(JSON.stringify({ entries: [{ careArea: 'Ward', drug: 'Insulin', concentration: 1, concentrationUnit: 'units/mL', doseUnit: 'units/h', limits: { hardMin: 0, softMax: 10, hardMax: 20 }, highAlert: true }] }), 'json');
    assert.deepEqual(e?.limits, { hardMin: 0, softMax: 10, hardMax: 20 });
    assert.equal(e?.highAlert, true);
  });

  describe('when rows are bad', () => {
    it('refuses the whole file and names every bad row', () => {
      const csv = 'careArea,drug,concentration,concentrationUnit,doseUnit,hardMin,softMin,softMax,hardMax,highAlert\n'
        + 'ICU,Heparin,100,units/mL,units/h,0,100,2000,3000,yes\n'
        + 'ICU,,100,units/mL,units/h,0,,,3000,no\n'
        + 'ICU,Morphine,1,mg/mL,mg/h,0,,20,10,yes\n'
        + 'ICU,Saline,abc,mL/mL,furlongs,,,,,no\n';
      const problems = problemsOf(() => parseDrugLibrary(csv, 'csv'));
      assert.ok(problems.some((p) => p.startsWith('row 3') && p.includes('drug')));
      assert.ok(problems.some((p) => p.startsWith('row 4') && p.includes('hardMax')));
      assert.ok(problems.some((p) => p.startsWith('row 5') && p.includes('doseUnit')));
      assert.ok(problems.some((p) => p.startsWith('row 5') && p.includes('hardMax is required')));
      assert.ok(!problems.some((p) => p.startsWith('row 2')));
    });

    it('refuses duplicates, empty files and non-JSON', () => {
      const row = { careArea: 'ICU', drug: 'Heparin', concentration: 100, concentrationUnit: 'units/mL', doseUnit: 'units/h', hardMax: 3000 };
      assert.ok(problemsOf(() => parseDrugLibrary(JSON.stringify([row, row]), 'json')).some((p) => p.includes('duplicate')));
      problemsOf(() => parseDrugLibrary('[]', 'json'));
      problemsOf(() => parseDrugLibrary('{not json', 'json'));
      problemsOf(() => parseDrugLibrary('"a","b\n', 'csv'));
    });
  });
});
