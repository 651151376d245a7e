import { defineErrors, MedTrustError } from '@medtrust/core';

/** SBOM, feed and vulnerability error codes. */
export const vulnErrors = defineErrors({
  SBOM_INVALID: { status: 400, meaning: 'The SBOM is not valid CycloneDX 1.4-1.6 or SPDX 2.3 JSON; `details.reasons` lists the validator findings. Nothing was stored.', fix: 'Fix the listed fields (or regenerate the SBOM with a conformant tool) and import it again.' },
  SBOM_FORMAT_UNKNOWN: { status: 400, meaning: 'The document is neither CycloneDX JSON (bomFormat) nor SPDX JSON (spdxVersion), or its spec version is not supported.', fix: 'Send CycloneDX 1.4, 1.5 or 1.6 JSON, or SPDX 2.3 JSON.' },
  SBOM_NOT_FOUND: { status: 404, meaning: 'No SBOM is stored for that model and firmware version.', fix: 'Import one with `medtrust sbom import --model M --version V FILE`.' },
  FEED_FORMAT_UNKNOWN: { status: 400, meaning: 'A feed file is not OSV JSON, NVD CVE API 2.0 JSON, CISA KEV JSON, EPSS CSV or a zip of OSV records.', fix: 'Check the file; see docs/vulnerabilities.md for the accepted formats.' },
  FEED_UNREADABLE: { status: 400, meaning: 'A feed file or archive could not be read or decompressed.', fix: 'Check the path and that the zip is not truncated.' },
  VULN_QUERY_INVALID: { status: 400, meaning: 'Give either a model and a firmware version, or a device id.', fix: 'Use `--model M --version V` or `--device ID`.' },
  VULN_DEVICE_NOT_FOUND: { status: 404, meaning: 'No device with that id is visible to the caller.', fix: 'Check the device id; a hospital sees only its own devices.' },
  VULN_NOT_FOUND: { status: 404, meaning: 'No stored firmware matches that vulnerability id.', fix: 'Check the id (CVE, GHSA or OSV) with `medtrust vuln list`; import the SBOMs and feeds first.' },
  VEX_INVALID: { status: 400, meaning: 'The VEX analysis is incomplete: unknown status, or not_affected without a justification.', fix: 'Status: not_affected, affected, fixed, under_investigation; not_affected needs one of component_not_present, vulnerable_code_not_present, vulnerable_code_not_in_execute_path, vulnerable_code_cannot_be_controlled_by_adversary, inline_mitigations_already_exist.' },
  CSAF_INVALID: { status: 500, meaning: 'A CSAF document MedTrust generated failed csaf-validator-lib strict validation; it was not published. `details.findings` lists the failed tests.', fix: 'Report it: this is a MedTrust bug. The findings name the CSAF 2.0 section.' },
  ADVISORY_NOTICE_NOT_FOUND: { status: 404, meaning: 'No advisory notice with that id is visible to the caller.', fix: 'List the notices of your hospital with GET /api/v1/advisory-notices or `medtrust advisory notices`.' },
  MODEL_PROFILE_INVALID: { status: 400, meaning: 'The clinical criticality or exposure given for a model is not one of the known values.', fix: 'Criticality: life-sustaining, therapy, monitoring, non-clinical. Exposure: internet, hospital-network, segmented, isolated.' },
});

export type VulnErrorCode = keyof typeof vulnErrors;
export class VulnError extends MedTrustError<VulnErrorCode> {}
