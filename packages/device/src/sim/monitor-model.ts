import { clamp, depthAt, type Episode, lerp, round1 } from './episode.ts';
import type { SimProfile } from './profiles.ts';
import { driftStep, type SeededRandom } from './seeded-random.ts';

export type MonitorEventKind = 'desaturation' | 'bradycardia';

/** The `vitals` body of docs/device-protocol.md. */
export interface VitalsBody {
  heartRate?: { value: number; unit: '/min' };
  spo2?: { value: number; unit: '%' };
  bodyTemperature?: { value: number; unit: 'Cel' };
  nibp?: { systolic: number; diastolic: number; mean: number; unit: 'mm[Hg]' };
  respiratoryRate?: { value: number; unit: '/min' };
  glucose?: { value: number; unit: 'mg/dL' };
}

/**
 * A bedside patient monitor on one simulated patient: heart rate, SpO2, respiratory rate and
 * temperature drift around the patient's baseline with sensor noise; NIBP is cycled; episodes
 * (desaturation, bradycardia) come at the profile's rates or when scripted; a probe falls off now
 * and then (SpO2 missing, an error code in the health report).
 */
export class PatientMonitorModel {
  readonly #rng: SeededRandom;
  readonly #p: SimProfile;
  readonly #base: { hr: number; spo2: number; rr: number; temp: number; sys: number; dia: number };
  #hr: number;
  #spo2: number;
  #rr: number;
  #temp: number;
  #sys: number;
  #episode: Episode<MonitorEventKind> | undefined;
  #probeOffUntilMs = 0;
  #lastNibpMs = Number.NEGATIVE_INFINITY;

  constructor(rng: SeededRandom, profile: SimProfile) {
    this.#rng = rng;
    this.#p = profile;
    const b = profile.patient;
    this.#base = { hr: b.heartRate + rng.between(-10, 10), spo2: Math.min(99, b.spo2 + rng.between(-1.5, 1.5)), rr: b.respiratoryRate + rng.between(-3, 3), temp: rng.between(36.4, 37.6), sys: b.systolic + rng.between(-15, 15), dia: 0 };
    this.#base.dia = this.#base.sys * rng.between(0.58, 0.66);
    this.#hr = this.#base.hr;
    this.#spo2 = this.#base.spo2;
    this.#rr = this.#base.rr;
    this.#temp = this.#base.temp;
    this.#sys = this.#base.sys;
  }

  get episode(): Episode<MonitorEventKind> | undefined {
    return this.#episode;
  }

  get faultCodes(): string[] {
    return this.#probeOffUntilMs > 0 ? ['SPO2-PROBE-OFF'] : [];
  }

  /** Starts an episode now (scripted scenarios); ignored while another one runs. */
  trigger(kind: MonitorEventKind, atMs: number): Episode<MonitorEventKind> | undefined {
    if (this.#episode && atMs <= this.#episode.startMs + this.#episode.durationMs) return undefined;
    const r = this.#rng;
    // Long enough to pass the default alert delays (SpO2 < 90 for 30 s, HR < 40 for 10 s).
    this.#episode = kind === 'desaturation'
      ? { kind, startMs: atMs, durationMs: r.between(70_000, 150_000), extreme: r.between(80, 86) }
      : { kind, startMs: atMs, durationMs: r.between(40_000, 120_000), extreme: r.between(32, 38) };
    return this.#episode;
  }

  /** The reading taken at `atMs`, `dtMs` after the previous one; `started` names an episode that began. */
  step(atMs: number, dtMs: number): { vitals: VitalsBody; started: MonitorEventKind | undefined } {
    const r = this.#rng;
    const rates = this.#p.ratesPerHour;
    let started: MonitorEventKind | undefined;
    if (this.#episode && atMs > this.#episode.startMs + this.#episode.durationMs) this.#episode = undefined;
    if (!this.#episode) {
      if (r.happens(rates.desaturation, dtMs)) started = this.trigger('desaturation', atMs)?.kind;
      else if (r.happens(rates.bradycardia, dtMs)) started = this.trigger('bradycardia', atMs)?.kind;
    }
    if (this.#probeOffUntilMs > 0 && atMs >= this.#probeOffUntilMs) this.#probeOffUntilMs = 0;
    if (this.#probeOffUntilMs === 0 && r.happens(rates.fault, dtMs)) this.#probeOffUntilMs = atMs + r.between(20_000, 120_000);

    this.#hr = driftStep(r, this.#hr, this.#base.hr, 120_000, 2.5, dtMs);
    this.#spo2 = driftStep(r, this.#spo2, this.#base.spo2, 60_000, 0.6, dtMs);
    this.#rr = driftStep(r, this.#rr, this.#base.rr, 120_000, 1, dtMs);
    this.#temp = driftStep(r, this.#temp, this.#base.temp, 30 * 60_000, 0.03, dtMs);
    this.#sys = driftStep(r, this.#sys, this.#base.sys, 10 * 60_000, 3, dtMs);

    const e = this.#episode;
    // SpO2 falls over tens of seconds; a bradycardia sets in within a few beats.
    const depth = e ? depthAt(e, atMs, e.kind === 'desaturation' ? 20_000 : 5_000) : 0;
    let hr = this.#hr + r.normal();
    let spo2 = this.#spo2 + 0.4 * r.normal();
    if (e?.kind === 'desaturation') {
      spo2 = lerp(spo2, e.extreme, depth);
      hr += 15 * depth; // compensatory tachycardia
    }
    if (e?.kind === 'bradycardia') hr = lerp(hr, e.extreme, depth);

    const vitals: VitalsBody = {
      heartRate: { value: Math.round(clamp(hr, 20, 250)), unit: '/min' },
      respiratoryRate: { value: Math.round(clamp(this.#rr + 0.5 * r.normal(), 4, 60)), unit: '/min' },
      bodyTemperature: { value: round1(clamp(this.#temp, 34, 42)), unit: 'Cel' },
    };
    if (this.#probeOffUntilMs === 0) vitals.spo2 = { value: Math.round(clamp(spo2, 50, 100)), unit: '%' };
    if (atMs - this.#lastNibpMs >= this.#p.nibpIntervalMs) {
      this.#lastNibpMs = atMs;
      const systolic = Math.round(clamp(this.#sys + 3 * r.normal(), 60, 240));
      const diastolic = Math.round(clamp(this.#base.dia * (systolic / this.#base.sys), 30, systolic - 10));
      vitals.nibp = { systolic, diastolic, mean: Math.round(diastolic + (systolic - diastolic) / 3), unit: 'mm[Hg]' };
    }
    return { vitals, started };
  }
}
