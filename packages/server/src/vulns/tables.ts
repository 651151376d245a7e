/** One SBOM per (model, firmware version); a re-import replaces it. */
export interface VulnSbomTable {
  id: string;
  model: string;
  firmware_version: string;
  format: 'cyclonedx' | 'spdx';
  spec_version: string;
  document_name: string | null;
  component_count: number;
  imported_at: number;
  imported_by: string;
}

/** A component of a firmware's SBOM, with the FDA fields the 524B report needs. */
export interface VulnComponentTable {
  id: string;
  sbom_id: string;
  model: string;
  firmware_version: string;
  /** bom-ref (CycloneDX) or SPDXID (SPDX). */
  ref: string;
  component_type: string | null;
  name: string;
  version: string | null;
  /** Canonical purl (packageurl-js) or null. */
  purl: string | null;
  cpe: string | null;
  supplier: string | null;
  support_level: string | null;
  /** End-of-support as written in the SBOM (a date or a phrase). */
  end_of_support: string | null;
  /** The same, when it parses as a date. */
  end_of_support_at: number | null;
}

/** Package keys of a component: what the matcher looks advisories up by. */
export interface VulnComponentKeyTable {
  component_id: string;
  package_key: string;
}

/** One advisory record as imported (OSV or NVD), normalised. */
export interface VulnAdvisoryTable {
  /** `source:record id` (osv:CVE-2016-2105 and nvd:CVE-2016-2105 are two records). */
  id: string;
  source: 'osv' | 'nvd';
  /** Canonical vulnerability id: the CVE among the id and aliases, else the record id. */
  vuln_id: string;
  aliases: string;
  summary: string;
  modified_at: number;
  published_at: number | null;
  cvss31_vector: string | null;
  cvss40_vector: string | null;
  /** The normalised record (JSON): what the matcher evaluates. */
  record: string;
  imported_at: number;
}

export interface VulnAdvisoryKeyTable {
  advisory_id: string;
  package_key: string;
}

export interface VulnKevTable {
  cve_id: string;
  vendor_project: string;
  product: string;
  name: string;
  date_added: string;
  due_date: string | null;
  known_ransomware: string | null;
}

export interface VulnEpssTable {
  cve_id: string;
  epss: number;
  percentile: number;
  score_date: string;
}

/** A component found affected (or not decidable: `unknown`) by an advisory. */
export interface VulnMatchTable {
  component_id: string;
  advisory_id: string;
  vuln_id: string;
  model: string;
  firmware_version: string;
  status: 'affected' | 'unknown';
  reason: string;
  fixed_version: string | null;
  matched_at: number;
}

/** Risk inputs of a device model: clinical criticality, network exposure, end of support. */
export interface VulnModelProfileTable {
  model: string;
  criticality: string;
  exposure: string;
  end_of_support_at: number | null;
  updated_at: number;
}

/** The manufacturer's analysis of one vulnerability in one firmware (VEX). */
export interface VulnVexTable {
  model: string;
  firmware_version: string;
  vuln_id: string;
  status: 'not_affected' | 'affected' | 'fixed' | 'under_investigation';
  /** CSAF/OpenVEX justification; required for not_affected. */
  justification: string | null;
  detail: string | null;
  author: string;
  updated_at: number;
}

/** An advisory as sent to one affected tenant (docs/vulnerabilities.md, "Notifying hospitals"). */
export interface VulnAdvisoryNoticeTable {
  id: string;
  tenant_id: string;
  vuln_id: string;
  tracking_id: string;
  title: string;
  /** JSON: the tenant's affected firmwares, each with the fixing firmware when there is one. */
  firmwares: string;
  affected_devices: number;
  /** The CSAF 2.0 advisory as validated and published. */
  csaf: string;
  created_at: number;
  created_by: string;
  acknowledged_at: number | null;
  acknowledged_by: string | null;
}

export interface VulnTables {
  vuln_advisory_notice: VulnAdvisoryNoticeTable;
  vuln_vex: VulnVexTable;
  vuln_sbom: VulnSbomTable;
  vuln_component: VulnComponentTable;
  vuln_component_key: VulnComponentKeyTable;
  vuln_advisory: VulnAdvisoryTable;
  vuln_advisory_key: VulnAdvisoryKeyTable;
  vuln_kev: VulnKevTable;
  vuln_epss: VulnEpssTable;
  vuln_match: VulnMatchTable;
  vuln_model_profile: VulnModelProfileTable;
}
