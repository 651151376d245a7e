import { clamp, depthAt, type Episode, lerp } from './episode.ts';
import type { VitalsBody } from './monitor-model.ts';
import type { SimProfile } from './profiles.ts';
import { driftStep, type SeededRandom } from './seeded-random.ts';

export type GlucoseEventKind = 'hypoglycaemia';

/**
 * A continuous glucose monitor: interstitial glucose drifting around the patient's level, meals
 * that raise it for an hour or two, hypoglycaemia episodes (the home profile's main risk), and
 * signal loss (no reading; an error code in the health report).
 */
export class GlucoseMonitorModel {
  readonly #rng: SeededRandom;
  readonly #p: SimProfile;
  readonly #base: number;
  #level: number;
  #meal: { startMs: number; durationMs: number; rise: number } | undefined;
  #episode: Episode<GlucoseEventKind> | undefined;
  #signalLostUntilMs = 0;

  constructor(rng: SeededRandom, profile: SimProfile) {
    this.#rng = rng;
    this.#p = profile;
    this.#base = profile.patient.glucose + rng.between(-20, 20);
    this.#level = this.#base;
  }

  get episode(): Episode<GlucoseEventKind> | undefined {
    return this.#episode;
  }

  get faultCodes(): string[] {
    return this.#signalLostUntilMs > 0 ? ['CGM-SIGNAL-LOSS'] : [];
  }

  trigger(kind: GlucoseEventKind, atMs: number): Episode<GlucoseEventKind> | undefined {
    if (this.#episode && atMs <= this.#episode.startMs + this.#episode.durationMs) return undefined;
    this.#episode = { kind, startMs: atMs, durationMs: this.#rng.between(20 * 60_000, 40 * 60_000), extreme: this.#rng.between(48, 62) };
    return this.#episode;
  }

  /** The reading at `atMs`; `vitals` is undefined while the sensor has no signal. */
  step(atMs: number, dtMs: number): { vitals: VitalsBody | undefined; started: GlucoseEventKind | undefined } {
    const r = this.#rng;
    let started: GlucoseEventKind | undefined;
    if (this.#episode && atMs > this.#episode.startMs + this.#episode.durationMs) this.#episode = undefined;
    if (!this.#episode && r.happens(this.#p.ratesPerHour.hypoglycaemia, dtMs)) started = this.trigger('hypoglycaemia', atMs)?.kind;
    if (this.#meal && atMs > this.#meal.startMs + this.#meal.durationMs) this.#meal = undefined;
    if (!this.#meal && r.happens(0.15, dtMs)) this.#meal = { startMs: atMs, durationMs: r.between(90, 150) * 60_000, rise: r.between(40, 90) };
    if (this.#signalLostUntilMs > 0 && atMs >= this.#signalLostUntilMs) this.#signalLostUntilMs = 0;
    if (this.#signalLostUntilMs === 0 && r.happens(this.#p.ratesPerHour.fault, dtMs)) this.#signalLostUntilMs = atMs + r.between(5, 20) * 60_000;

    this.#level = driftStep(r, this.#level, this.#base, 45 * 60_000, 3, dtMs);
    let g = this.#level + (this.#meal ? this.#meal.rise * depthAt(this.#meal, atMs, this.#meal.durationMs / 3) : 0);
    const e = this.#episode;
    if (e) g = lerp(g, e.extreme, depthAt(e, atMs, 5 * 60_000));
    g += 2 * r.normal(); // sensor noise
    if (this.#signalLostUntilMs > 0) return { vitals: undefined, started };
    return { vitals: { glucose: { value: Math.round(clamp(g, 40, 400)), unit: 'mg/dL' } }, started };
  }
}
