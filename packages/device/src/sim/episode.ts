/** A clinical or technical episode on the simulated timeline (device time). */
export interface Episode<K extends string> {
  readonly kind: K;
  readonly startMs: number;
  readonly durationMs: number;
  /** How far the value goes at the bottom (or top) of the episode. */
  readonly extreme: number;
}

/**
 * 0 before and after the episode, 1 at its worst: ramps in and out over `rampMs` so values move
 * the way a real desaturation does (over tens of seconds), not as a step.
 */
export function depthAt(e: { startMs: number; durationMs: number }, atMs: number, rampMs: number): number {
  const t = atMs - e.startMs;
  if (t < 0 || t > e.durationMs) return 0;
  const ramp = Math.min(rampMs, e.durationMs / 2);
  if (t < ramp) return t / ramp;
  if (t > e.durationMs - ramp) return (e.durationMs - t) / ramp;
  return 1;
}

export const lerp = (a: number, b: number, f: number): number => a + (b - a) * f;
export const clamp = (x: number, min: number, max: number): number => Math.min(max, Math.max(min, x));
export const round1 = (x: number): number => Math.round(x * 10) / 10;
