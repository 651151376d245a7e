import { clamp, round1 } from './episode.ts';
import type { SimProfile } from './profiles.ts';
import type { SeededRandom } from './seeded-random.ts';

/** The `health` body of docs/device-protocol.md. */
export interface HealthBody {
  batteryPct: number;
  firmwareVersion: string;
  uptimeS: number;
  errorCodes: string[];
}

/**
 * Battery, firmware and uptime. On mains the battery stays near full (unplugged for transport now
 * and then); at home it drains and is recharged overnight-style when low.
 */
export class HealthModel {
  readonly #rng: SeededRandom;
  readonly #p: SimProfile;
  readonly firmwareVersion: string;
  #battery: number;
  #bootMs: number;
  #unpluggedUntilMs = 0;

  constructor(rng: SeededRandom, profile: SimProfile, firmwareVersion: string, startMs: number) {
    this.#rng = rng;
    this.#p = profile;
    this.firmwareVersion = firmwareVersion;
    this.#battery = profile.onMains ? rng.between(85, 100) : rng.between(30, 100);
    // Devices have been running for a while when the simulation starts.
    this.#bootMs = startMs - rng.between(1, 72) * 3_600_000;
  }

  get batteryPct(): number {
    return this.#battery;
  }

  /** A crash and reboot (a device fault): uptime starts again. */
  reboot(atMs: number): void {
    this.#bootMs = atMs;
  }

  step(atMs: number, dtMs: number, errorCodes: readonly string[]): HealthBody {
    const r = this.#rng;
    const hours = dtMs / 3_600_000;
    if (this.#p.onMains) {
      if (this.#unpluggedUntilMs === 0 && r.happens(0.2, dtMs)) this.#unpluggedUntilMs = atMs + r.between(5, 30) * 60_000;
      if (this.#unpluggedUntilMs > 0 && atMs >= this.#unpluggedUntilMs) this.#unpluggedUntilMs = 0;
      this.#battery += this.#unpluggedUntilMs > 0 ? -12 * hours : 20 * hours;
    } else {
      this.#battery -= 6 * hours;
      if (this.#battery < 10) this.#battery = 100; // the patient charges it
    }
    this.#battery = clamp(this.#battery, 0, 100);
    return { batteryPct: round1(this.#battery), firmwareVersion: this.firmwareVersion, uptimeS: Math.max(0, Math.floor((atMs - this.#bootMs) / 1000)), errorCodes: [...errorCodes] };
  }
}
