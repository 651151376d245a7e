/** 32-bit FNV-1a: turns a seed label into a generator state. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * Deterministic pseudo-random numbers (mulberry32): the same seed gives the same fleet, readings
 * and events on every run. Not for cryptography; the device keys come from node:crypto.
 */
export class SeededRandom {
  readonly seed: string;
  #state: number;

  constructor(seed: string | number) {
    this.seed = String(seed);
    this.#state = hash32(this.seed);
  }

  /** An independent stream for one part of the simulation, so adding a device does not shift the others. */
  fork(label: string): SeededRandom {
    return new SeededRandom(`${this.seed}/${label}`);
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  between(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  int(min: number, maxInclusive: number): number {
    return Math.floor(this.between(min, maxInclusive + 1));
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new RangeError('pick from an empty list');
    return item;
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    const u = 1 - this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  /** True with the probability that an event of `perHour` rate happens within `dtMs` (Poisson). */
  happens(perHour: number, dtMs: number): boolean {
    return perHour > 0 && this.next() < 1 - Math.exp(-(perHour * dtMs) / 3_600_000);
  }
}

/**
 * One Ornstein-Uhlenbeck step: drifts `x` back toward `mean` with time constant `tauMs` while
 * wandering with `sigma` per sqrt(minute); what physiological signals look like between events.
 */
export function driftStep(rng: SeededRandom, x: number, mean: number, tauMs: number, sigma: number, dtMs: number): number {
  return x + ((mean - x) * dtMs) / tauMs + sigma * Math.sqrt(dtMs / 60_000) * rng.normal();
}
