import type { Clock } from '@medtrust/core';

/** Per-key token buckets: `ratePerS` sustained, `burst` at once. */
export class TokenBuckets {
  readonly #ratePerS: number;
  readonly #burst: number;
  readonly #clock: Clock;
  readonly #buckets = new Map<string, { tokens: number; atMs: number }>();

  constructor(opts: { ratePerS: number; burst: number; clock: Clock }) {
    this.#ratePerS = opts.ratePerS;
    this.#burst = opts.burst;
    this.#clock = opts.clock;
  }

  /** Takes a token now if there is one (returns 0), else returns the ms until one is due. */
  take(key: string): number {
    const now = this.#clock.nowMs();
    let b = this.#buckets.get(key);
    if (!b) this.#buckets.set(key, (b = { tokens: this.#burst, atMs: now }));
    b.tokens = Math.min(this.#burst, b.tokens + ((now - b.atMs) * this.#ratePerS) / 1000);
    b.atMs = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - b.tokens) * 1000) / this.#ratePerS);
  }

  forget(key: string): void {
    this.#buckets.delete(key);
  }
}
