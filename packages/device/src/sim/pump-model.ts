import { round1 } from './episode.ts';
import type { SimProfile } from './profiles.ts';
import type { SeededRandom } from './seeded-random.ts';

/** The `infusion` body of docs/device-protocol.md. */
export interface InfusionBody {
  drug: string;
  concentration: { value: number; unit: string };
  rateMlPerH: number;
  vtbiMl: number;
  volumeInfusedMl: number;
  state: 'idle' | 'infusing' | 'paused' | 'alarm';
  alarms: string[];
}

/** Infusions the simulator programs (names and concentrations as in the ICU drug library fixture). */
export const SIM_DRUGS: ReadonlyArray<{ drug: string; concentration: number; unit: string; rateMlPerH: readonly [number, number] }> = [
  { drug: 'Heparin', concentration: 100, unit: '[iU]/mL', rateMlPerH: [8, 14] },
  { drug: 'Norepinephrine', concentration: 16, unit: 'ug/mL', rateMlPerH: [5, 25] },
  { drug: 'Propofol', concentration: 10, unit: 'mg/mL', rateMlPerH: [5, 20] },
];

export type PumpEventKind = 'occlusion' | 'infusion-complete';

/**
 * A volumetric infusion pump: programmed with a drug, rate and volume to be infused; counts the
 * volume delivered; raises an occlusion alarm now and then (cleared by the nurse a little later,
 * delivery paused meanwhile); reports infusion-complete and starts the next bag.
 */
export class InfusionPumpModel {
  readonly #rng: SeededRandom;
  readonly #p: SimProfile;
  #drug: (typeof SIM_DRUGS)[number];
  #rate: number;
  #vtbi: number;
  #infused: number;
  #occludedUntilMs = 0;
  #idleUntilMs = 0;

  constructor(rng: SeededRandom, profile: SimProfile) {
    this.#rng = rng;
    this.#p = profile;
    this.#drug = rng.pick(SIM_DRUGS);
    this.#rate = round1(rng.between(...this.#drug.rateMlPerH));
    this.#vtbi = rng.pick([250, 500]);
    this.#infused = round1(rng.between(0, this.#vtbi * 0.7));
  }

  get drug(): string {
    return this.#drug.drug;
  }

  get rateMlPerH(): number {
    return this.#rate;
  }

  /** Programs an infusion (scripted scenarios: the pump a stuck key is pressed on). */
  program(drug: string, rateMlPerH: number, vtbiMl: number): void {
    const d = SIM_DRUGS.find((x) => x.drug === drug);
    if (!d) throw new RangeError(`unknown simulated drug ${drug}`);
    this.#drug = d;
    this.#rate = rateMlPerH;
    this.#vtbi = vtbiMl;
    this.#infused = 0;
    this.#occludedUntilMs = 0;
    this.#idleUntilMs = 0;
  }

  /** A verified command's new rate (infusion.program / infusion.change-rate); the pump keeps its bag. */
  setRate(rateMlPerH: number): void {
    if (!Number.isFinite(rateMlPerH) || rateMlPerH < 0 || rateMlPerH > 2000) throw new RangeError('rate out of the pump\'s range');
    this.#rate = round1(rateMlPerH);
    this.#idleUntilMs = 0;
  }

  /** infusion.stop: idle until a nurse hangs the next bag (a few minutes). */
  stopInfusion(atMs: number): void {
    this.#idleUntilMs = atMs + 5 * 60_000;
  }

  step(atMs: number, dtMs: number): { infusion: InfusionBody; started: PumpEventKind | undefined } {
    const r = this.#rng;
    let started: PumpEventKind | undefined;
    const alarms: string[] = [];
    let state: InfusionBody['state'] = 'infusing';
    if (this.#idleUntilMs > 0) {
      if (atMs < this.#idleUntilMs) state = 'idle';
      else {
        // A nurse hangs the next bag.
        this.#idleUntilMs = 0;
        this.#drug = r.pick(SIM_DRUGS);
        this.#startBag();
      }
    }
    if (state === 'infusing') {
      if (this.#occludedUntilMs > 0 && atMs >= this.#occludedUntilMs) this.#occludedUntilMs = 0;
      if (this.#occludedUntilMs === 0 && r.happens(this.#p.ratesPerHour.occlusion, dtMs)) {
        this.#occludedUntilMs = atMs + r.between(20_000, 90_000);
        started = 'occlusion';
      }
      if (this.#occludedUntilMs > 0) {
        state = 'alarm';
        alarms.push('downstream-occlusion');
      } else {
        this.#infused = Math.min(this.#vtbi, this.#infused + (this.#rate * dtMs) / 3_600_000);
        if (this.#infused >= this.#vtbi) {
          state = 'idle';
          alarms.push('infusion-complete');
          started = 'infusion-complete';
          this.#idleUntilMs = atMs + r.between(60_000, 300_000);
        }
      }
    }
    const infusion: InfusionBody = {
      drug: this.#drug.drug, concentration: { value: this.#drug.concentration, unit: this.#drug.unit },
      rateMlPerH: state === 'idle' ? 0 : this.#rate, vtbiMl: this.#vtbi, volumeInfusedMl: round1(this.#infused), state, alarms,
    };
    return { infusion, started };
  }

  #startBag(): void {
    this.#rate = round1(this.#rng.between(...this.#drug.rateMlPerH));
    this.#vtbi = this.#rng.pick([250, 500]);
    this.#infused = 0;
  }
}
