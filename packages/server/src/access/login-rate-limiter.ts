import { type Clock, systemClock } from '@medtrust/core';

/**
 * Fixed-window attempt counter per key (client address), in memory on each node. Account lockout
 * in the database bounds guessing per account cluster-wide; this bounds one client's rate.
 */
export class LoginRateLimiter {
  readonly #clock: Clock;
  readonly #max: number;
  readonly #windowMs: number;
  readonly #windows = new Map<string, { start: number; count: number }>();

  constructor(opts: { clock?: Clock; maxAttempts?: number; windowMs?: number } = {}) {
    this.#clock = opts.clock ?? systemClock;
    this.#max = opts.maxAttempts ?? 10;
    this.#windowMs = opts.windowMs ?? 60_000;
  }

  /** Counts one attempt; returns 0 when allowed, else the milliseconds until the next allowed one. */
  hit(key: string): number {
    const now = this.#clock.nowMs();
    if (this.#windows.size > 10_000) for (const [k, w] of this.#windows) if (w.start + this.#windowMs <= now) this.#windows.delete(k);
    let w = this.#windows.get(key);
    if (!w || w.start + this.#windowMs <= now) {
      w = { start: now, count: 0 };
      this.#windows.set(key, w);
    }
    w.count += 1;
    return w.count > this.#max ? w.start + this.#windowMs - now : 0;
  }
}
