import { PkiError } from '../errors.ts';

/** RFC 5280 §5.3.1 CRLReason codes that a revocation may carry (7 is unused). */
export const CRL_REASONS = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  certificateHold: 6,
  privilegeWithdrawn: 9,
  aACompromise: 10,
} as const;

export type CrlReasonName = keyof typeof CRL_REASONS;
export const CRL_REASON_NAMES = Object.keys(CRL_REASONS) as readonly CrlReasonName[];

/** The reason code for a name; REVOCATION_REASON_INVALID for anything else. */
export function parseCrlReason(name: string): number {
  // RFC 5280 §5.3.1: removeFromCRL (8) only appears in delta CRLs, it is not a revocation reason.
  if (!Object.hasOwn(CRL_REASONS, name)) {
    throw new PkiError('REVOCATION_REASON_INVALID', `"${name}" is not a revocation reason`, { details: { allowed: CRL_REASON_NAMES } });
  }
  return CRL_REASONS[name as CrlReasonName];
}

/** The name of a stored reason code (`unspecified` for null). */
export function crlReasonName(code: number | null): CrlReasonName | 'unknown' {
  if (code === null) return 'unspecified';
  return CRL_REASON_NAMES.find((n) => CRL_REASONS[n] === code) ?? 'unknown';
}
