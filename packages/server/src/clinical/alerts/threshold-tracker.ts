import type { AlertCondition } from './alert-rule.ts';

type Threshold = Extract<AlertCondition, { kind: 'threshold' }>;

/** What one sample did to a threshold rule's condition for one subject. */
export type ThresholdTransition = 'none' | 'raise' | 'clear';

/**
 * Duration and hysteresis for one (rule, subject): a breach must hold for `forMs` to raise, and
 * the value must return past threshold ± hysteresis for `forMs` to clear. Samples may arrive
 * late (replayed after an outage): time is the device's timestamp, and a sample older than the
 * last one seen is ignored so that replays in order give the same result as live data.
 */
export class ThresholdTracker {
  #active = false;
  #breachSince: number | undefined;
  #clearSince: number | undefined;
  #lastAtMs = Number.NEGATIVE_INFINITY;

  constructor(private readonly condition: Threshold, active = false) {
    this.#active = active;
  }

  get active(): boolean {
    return this.#active;
  }

  observe(value: number, atMs: number): ThresholdTransition {
    if (atMs < this.#lastAtMs) return 'none';
    this.#lastAtMs = atMs;
    const c = this.condition;
    const breach = c.op === '<' ? value < c.value : value > c.value;
    const clear = c.op === '<' ? value >= c.value + c.hysteresis : value <= c.value - c.hysteresis;
    if (!this.#active) {
      if (!breach) {
        this.#breachSince = undefined;
        return 'none';
      }
      this.#breachSince ??= atMs;
      if (atMs - this.#breachSince < c.forMs) return 'none';
      this.#active = true;
      this.#breachSince = undefined;
      this.#clearSince = undefined;
      return 'raise';
    }
    if (!clear) {
      this.#clearSince = undefined;
      return 'none';
    }
    this.#clearSince ??= atMs;
    if (atMs - this.#clearSince < c.forMs) return 'none';
    this.#active = false;
    this.#clearSince = undefined;
    return 'clear';
  }
}
