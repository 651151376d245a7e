import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { NonceRegistry } from '@medtrust/core';

/**
 * The device's memory of command nonces, bounded in size. Expired nonces are forgotten first; when
 * the cache is full of live ones, the one expiring soonest is evicted and its expiry becomes a
 * floor: any command expiring no later than the floor is refused as a replay, so eviction can
 * never let a replay through (it can only refuse a genuine command during a flood, which fails
 * safe). With `file`, the cache survives a device restart (a replay right after a reboot is
 * refused too); it is rewritten atomically on each new nonce.
 */
export class BoundedNonceRegistry implements NonceRegistry {
  readonly #max: number;
  readonly #file: string | undefined;
  readonly #seen = new Map<string, number>();
  #floorMs = Number.NEGATIVE_INFINITY;

  constructor(opts: { maxEntries?: number; file?: string } = {}) {
    this.#max = Math.max(1, opts.maxEntries ?? 4096);
    this.#file = opts.file;
    if (this.#file && existsSync(this.#file)) {
      const saved = JSON.parse(readFileSync(this.#file, 'utf8')) as { floorMs: number | null; seen: Array<[string, number]> };
      this.#floorMs = saved.floorMs ?? Number.NEGATIVE_INFINITY;
      for (const [n, exp] of saved.seen.slice(-this.#max)) this.#seen.set(n, exp);
    }
  }

  get size(): number {
    return this.#seen.size;
  }

  remember(nonce: string, expiresAtMs: number, nowMs: number): boolean {
    if (this.#seen.has(nonce) || expiresAtMs <= this.#floorMs) return false;
    if (this.#seen.size >= this.#max) for (const [n, exp] of this.#seen) if (exp < nowMs) this.#seen.delete(n);
    while (this.#seen.size >= this.#max) {
      let oldest: [string, number] | undefined;
      for (const e of this.#seen) if (!oldest || e[1] < oldest[1]) oldest = e;
      this.#seen.delete(oldest![0]);
      this.#floorMs = Math.max(this.#floorMs, oldest![1]);
    }
    this.#seen.set(nonce, expiresAtMs);
    this.#save();
    return true;
  }

  #save(): void {
    if (!this.#file) return;
    const tmp = `${this.#file}.tmp`;
    writeFileSync(tmp, JSON.stringify({ floorMs: Number.isFinite(this.#floorMs) ? this.#floorMs : null, seen: [...this.#seen] }), { mode: 0o600 });
    renameSync(tmp, this.#file);
  }
}
