/**
 * Soft and hard limits on one numeric value, as a drug library or a device class declares them.
 * Any bound may be absent. Hard limits refuse; soft limits need an override.
 */
export interface Limits {
  readonly hardMin?: number;
  readonly softMin?: number;
  readonly softMax?: number;
  readonly hardMax?: number;
}

export type LimitCheck =
  | { readonly kind: 'within' }
  | { readonly kind: 'soft'; readonly bound: 'softMin' | 'softMax'; readonly limit: number }
  | { readonly kind: 'hard'; readonly bound: 'hardMin' | 'hardMax'; readonly limit: number };

/** Where a value falls against its limits; hard beats soft. */
export function checkLimits(value: number, limits: Limits): LimitCheck {
  if (limits.hardMax !== undefined && value > limits.hardMax) return { kind: 'hard', bound: 'hardMax', limit: limits.hardMax };
  if (limits.hardMin !== undefined && value < limits.hardMin) return { kind: 'hard', bound: 'hardMin', limit: limits.hardMin };
  if (limits.softMax !== undefined && value > limits.softMax) return { kind: 'soft', bound: 'softMax', limit: limits.softMax };
  if (limits.softMin !== undefined && value < limits.softMin) return { kind: 'soft', bound: 'softMin', limit: limits.softMin };
  return { kind: 'within' };
}

/** Problems in a limits declaration (bounds out of order), empty when it is coherent. */
export function limitsProblems(l: Limits): string[] {
  const order: Array<[keyof Limits, number | undefined]> = [['hardMin', l.hardMin], ['softMin', l.softMin], ['softMax', l.softMax], ['hardMax', l.hardMax]];
  const present = order.filter((e): e is [keyof Limits, number] => e[1] !== undefined);
  const problems: string[] = [];
  for (const [k, v] of present) if (!Number.isFinite(v) || v < 0) problems.push(`${k} must be a finite number >= 0`);
  for (let i = 1; i < present.length; i++) {
    const [pk, pv] = present[i - 1]!;
    const [k, v] = present[i]!;
    if (v < pv) problems.push(`${k} (${v}) is below ${pk} (${pv})`);
  }
  return problems;
}

/** Rate ratio from which a change counts as a 10x-class jump (legitimate titration steps are 2-3x). */
export const RATE_JUMP_RATIO = 8;

/**
 * A new rate about 10x or 100x (or 1/10, 1/100) the running one: the signature of a stuck key
 * ("5" -> "55") or a misplaced decimal ("1.5" -> "15"). Caught even inside the limits. Returns
 * the ratio (always >= 1) when it is at least RATE_JUMP_RATIO.
 */
export function rateJumpRatio(runningRate: number, newRate: number): number | undefined {
  if (!(runningRate > 0) || !(newRate > 0)) return undefined;
  const ratio = newRate > runningRate ? newRate / runningRate : runningRate / newRate;
  return ratio >= RATE_JUMP_RATIO ? ratio : undefined;
}
