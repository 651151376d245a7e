/** VEX statuses (CSAF 2.0 product_status / OpenVEX). */
export const VEX_STATUSES = ['not_affected', 'affected', 'fixed', 'under_investigation'] as const;
export type VexStatus = (typeof VEX_STATUSES)[number];

/** CSAF 2.0 §3.2.3.5 flag labels, the justifications a not_affected analysis must give. */
export const VEX_JUSTIFICATIONS = ['component_not_present', 'vulnerable_code_not_present', 'vulnerable_code_not_in_execute_path', 'vulnerable_code_cannot_be_controlled_by_adversary', 'inline_mitigations_already_exist'] as const;
export type VexJustification = (typeof VEX_JUSTIFICATIONS)[number];

/** The manufacturer's analysis of one vulnerability in one firmware. */
export interface VexRecord {
  readonly model: string;
  readonly firmwareVersion: string;
  readonly vulnId: string;
  readonly status: VexStatus;
  readonly justification: VexJustification | null;
  readonly detail: string | null;
  readonly updatedAtMs: number;
}
