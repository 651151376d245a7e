import type { CertificateTable } from '../tables.ts';

/** How a certificate row appears on a CRL or in an OCSP `revoked` status. */
export interface RevokedEntry {
  readonly serial: string;
  readonly revokedAtMs: number;
  /** RFC 5280 CRLReason code; undefined means unspecified (RFC 5280 §5.3.1: then omit the extension). */
  readonly reason: number | undefined;
}

/**
 * The revocation of a row, or undefined while it is valid. A superseded certificate (replaced by
 * re-enrolment) is revoked with reason superseded, so that relying parties that only see the CRL
 * or OCSP (an external MQTT broker) refuse it as the gateway does; when no revocation time was
 * recorded, the successor's issue time (or else its own notBefore) stands in.
 */
export function revokedEntryOf(row: Pick<CertificateTable, 'serial' | 'status' | 'revoked_at' | 'revocation_reason' | 'not_before'>, successorCreatedAt: number | null): RevokedEntry | undefined {
  switch (row.status) {
    case 'valid':
      return undefined;
    case 'revoked':
      return { serial: row.serial, revokedAtMs: Number(row.revoked_at ?? row.not_before), reason: row.revocation_reason === null || row.revocation_reason === 0 ? undefined : row.revocation_reason };
    case 'superseded':
      return { serial: row.serial, revokedAtMs: Number(row.revoked_at ?? successorCreatedAt ?? row.not_before), reason: row.revocation_reason ?? 4 };
    default:
      return row.status satisfies never;
  }
}
