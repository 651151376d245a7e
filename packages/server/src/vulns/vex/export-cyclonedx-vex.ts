import type { VexJustification, VexRecord, VexStatus } from './vex-record.ts';

// CycloneDX 1.6 vulnerability analysis vocabulary for the CSAF/OpenVEX terms we record.
const STATE: Readonly<Record<VexStatus, string>> = { not_affected: 'not_affected', affected: 'exploitable', fixed: 'resolved', under_investigation: 'in_triage' };
const JUSTIFICATION: Readonly<Record<VexJustification, string>> = {
  component_not_present: 'code_not_present', vulnerable_code_not_present: 'code_not_present', vulnerable_code_not_in_execute_path: 'code_not_reachable',
  vulnerable_code_cannot_be_controlled_by_adversary: 'requires_environment', inline_mitigations_already_exist: 'protected_by_mitigating_control',
};

/**
 * CycloneDX 1.6 VEX (a BOM with `vulnerabilities[].analysis`) for the analyses of one model.
 * Built as plain JSON: the shape is small, and tests validate it with the CycloneDX validator.
 */
export function exportCycloneDxVex(opts: { model: string; records: readonly VexRecord[]; timestamp: Date; serialNumber: string }): string {
  const versions = [...new Set(opts.records.map((r) => r.firmwareVersion))].sort();
  const ref = (v: string): string => `firmware:${opts.model}@${v}`;
  const doc = {
    bomFormat: 'CycloneDX', specVersion: '1.6', serialNumber: opts.serialNumber, version: 1,
    metadata: { timestamp: opts.timestamp.toISOString(), tools: { components: [{ type: 'application', name: 'medtrust' }] } },
    components: versions.map((v) => ({ type: 'firmware', 'bom-ref': ref(v), name: opts.model, version: v })),
    vulnerabilities: opts.records.map((r) => ({
      'bom-ref': `vex:${r.vulnId}@${r.firmwareVersion}`, id: r.vulnId,
      ...(r.vulnId.startsWith('CVE-') ? { source: { name: 'NVD', url: `https://nvd.nist.gov/vuln/detail/${r.vulnId}` } } : {}),
      analysis: {
        state: STATE[r.status],
        ...(r.justification ? { justification: JUSTIFICATION[r.justification] } : {}),
        ...(r.detail ? { detail: r.detail } : {}),
        lastUpdated: new Date(r.updatedAtMs).toISOString(),
      },
      affects: [{ ref: ref(r.firmwareVersion) }],
    })),
  };
  return JSON.stringify(doc, null, 2);
}
