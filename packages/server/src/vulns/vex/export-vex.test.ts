import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as CDX from '@cyclonedx/cyclonedx-library';
import { exportCsafVex } from './export-csaf-vex.ts';
import { exportCycloneDxVex } from './export-cyclonedx-vex.ts';
import { validateCsaf as csafFindings } from './validate-csaf.ts';
import type { VexRecord } from './vex-record.ts';

const records: VexRecord[] = [
  { model: 'PUMP-X', firmwareVersion: '1.0', vulnId: 'CVE-2014-0160', status: 'affected', justification: null, detail: 'Heartbeat enabled; update to 2.0.', updatedAtMs: 0 },
  { model: 'PUMP-X', firmwareVersion: '2.0', vulnId: 'CVE-2014-0160', status: 'fixed', justification: null, detail: null, updatedAtMs: 0 },
  { model: 'PUMP-X', firmwareVersion: '1.0', vulnId: 'CVE-2020-13595', status: 'not_affected', justification: 'vulnerable_code_not_in_execute_path', detail: 'BLE stack disabled at build time.', updatedAtMs: 0 },
  { model: 'PUMP-X', firmwareVersion: '1.0', vulnId: 'OSV-2017-1', status: 'under_investigation', justification: null, detail: null, updatedAtMs: 0 },
];

describe('VEX export', () => {
  it('writes CSAF 2.0 csaf_vex that passes strict schema validation and all mandatory tests', async () => {
    const doc = exportCsafVex({ model: 'PUMP-X', records, publisher: { name: 'MedTrust Example Devices', namespace: 'https://medtrust.example' }, now: new Date('2026-11-23T00:00:00Z'), trackingId: 'MT-VEX-PUMP-X-1' });
    assert.deepEqual(await csafFindings(doc), []);
    const vulns = (doc as { vulnerabilities: Array<Record<string, any>> }).vulnerabilities; // eslint-disable-line @typescript-eslint/no-explicit-any -- reading the produced JSON
    assert.deepEqual(vulns.find((v) => v.cve === 'CVE-2014-0160')?.product_status, { known_affected: ['CSAFPID-PUMP-X-1.0'], fixed: ['CSAFPID-PUMP-X-2.0'] });
    assert.equal(vulns.find((v) => v.cve === 'CVE-2020-13595')?.flags[0].label, 'vulnerable_code_not_in_execute_path');
  });

  it('catches a broken CSAF document (the validator is really run)', async () => {
    const doc = exportCsafVex({ model: 'PUMP-X', records, publisher: { name: 'X', namespace: 'https://x.example' }, now: new Date(0), trackingId: 'T' }) as { vulnerabilities: Array<Record<string, unknown>> };
    doc.vulnerabilities[0]!.product_status = { known_affected: ['CSAFPID-NOT-DEFINED'] };
    assert.ok((await csafFindings(doc)).length > 0);
  });

  it('writes CycloneDX 1.6 VEX that the CycloneDX validator accepts', async () => {
    const json = exportCycloneDxVex({ model: 'PUMP-X', records, timestamp: new Date(0), serialNumber: 'urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79' });
    assert.equal(await new CDX.Validation.JsonStrictValidator(CDX.Spec.Version.v1dot6).validate(json), null);
    const doc = JSON.parse(json);
    assert.equal(doc.vulnerabilities.find((v: { id: string }) => v.id === 'CVE-2020-13595').analysis.justification, 'code_not_reachable');
  });
});
