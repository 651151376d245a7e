import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { EstClient } from '../est/est-client.ts';
import { DEVICE_MODELS, kindAt, type SimDeviceKind, type SimProfile } from './profiles.ts';
import { SeededRandom } from './seeded-random.ts';
import { type SimEvent, type SimEventKind, SimulatedDevice, type SimIdentity } from './simulated-device.ts';

export interface SimulatedFleetOptions {
  readonly identities: readonly SimIdentity[];
  readonly profile: SimProfile;
  readonly seed: string | number;
  /** EST base URL (`https://host:8443`) and MQTT URL (`mqtts://host:8883`). */
  readonly estUrl: string;
  readonly mqttUrl: string;
  /** Trust anchor for the platform's TLS listeners (the root the EST `cacerts` bundle holds). */
  readonly caPem: string;
  /** Where the devices keep their offline queues (`<dir>/<serial>/queue.jsonl`). */
  readonly dir: string;
  /** Device class per device; default: the profile's rotation. */
  readonly kindOf?: (index: number, identity: SimIdentity) => SimDeviceKind;
  /** Firmware per device; default: the model's current release. */
  readonly firmwareOf?: (index: number, kind: SimDeviceKind, identity: SimIdentity) => string;
  /** History to generate at start (device time before now), sent as a replay once connected. */
  readonly backfillMs?: number;
  /** Concurrent EST enrolments. */
  readonly enrolConcurrency?: number;
  readonly tickMs?: number;
  readonly now?: () => number;
  readonly onEvent?: (e: SimEvent) => void;
  /** The platform's command-signing public key (PEM): pumps verify and execute signed commands. */
  readonly commandKeyPem?: string;
}

export interface FleetStats {
  readonly devices: number;
  readonly enrolled: number;
  readonly connected: number;
  readonly offline: number;
  readonly published: number;
  /** Published but not yet acknowledged by the platform (in the devices' offline queues). */
  readonly pending: number;
  readonly refused: number;
  readonly events: Readonly<Partial<Record<SimEventKind, number>>>;
}

/**
 * A fleet of simulated devices sharing one clock: enrols them over EST (bounded concurrency),
 * connects them over MQTT, and advances every device on a timer. Same seed, same fleet.
 */
export class SimulatedFleet {
  readonly devices: readonly SimulatedDevice[];
  readonly #o: SimulatedFleetOptions;
  readonly #now: () => number;
  readonly #events: Partial<Record<SimEventKind, number>> = {};
  #timer: NodeJS.Timeout | undefined;

  constructor(o: SimulatedFleetOptions) {
    this.#o = o;
    this.#now = o.now ?? Date.now;
    const root = new SeededRandom(o.seed);
    const now = this.#now();
    const startMs = now - (o.backfillMs ?? 0);
    const runTag = now.toString(36);
    this.devices = o.identities.map((identity, i) => {
      const kind = o.kindOf?.(i, identity) ?? kindAt(o.profile, i);
      const dir = join(o.dir, identity.serial);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      return new SimulatedDevice({
        identity, kind, profile: o.profile, rng: root.fork(`device-${i}`), startMs, liveFromMs: now, runTag, dir,
        firmwareVersion: o.firmwareOf?.(i, kind, identity) ?? DEVICE_MODELS[kind].firmwareVersion,
        mqttUrl: o.mqttUrl, caPem: o.caPem, commandKeyPem: o.commandKeyPem,
        onEvent: (e) => {
          this.#events[e.kind] = (this.#events[e.kind] ?? 0) + 1;
          o.onEvent?.(e);
        },
      });
    });
  }

  /** Enrols every device over EST; `onEnrolled` after each. Throws the first failure after all settle. */
  async enrol(onEnrolled?: (d: SimulatedDevice) => void): Promise<void> {
    const est = new EstClient({ baseUrl: this.#o.estUrl, caPem: this.#o.caPem });
    const waiting = [...this.devices];
    const failures: unknown[] = [];
    const worker = async (): Promise<void> => {
      for (let d = waiting.shift(); d; d = waiting.shift()) {
        try {
          await d.enrol(est);
          onEnrolled?.(d);
        } catch (e) {
          failures.push(Object.assign(new Error(`${d.serial}: EST enrolment failed: ${(e as Error).message}`), { cause: e }));
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#o.enrolConcurrency ?? 4, this.devices.length) }, worker));
    if (failures.length > 0) throw failures[0];
  }

  /** Takes the backfilled history, connects every device, and keeps the readings coming. */
  start(): void {
    this.#tick();
    for (const d of this.devices) d.connect();
    this.#timer = setInterval(() => this.#tick(), this.#o.tickMs ?? 250);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await Promise.all(this.devices.map((d) => d.stop()));
  }

  stats(): FleetStats {
    let published = 0;
    let pending = 0;
    let refused = 0;
    for (const d of this.devices) {
      const s = d.stats();
      published += s.published;
      pending += s.pending;
      refused += s.refused;
    }
    return {
      devices: this.devices.length, enrolled: this.devices.filter((d) => d.enrolled).length, connected: this.devices.filter((d) => d.connected).length,
      offline: this.devices.filter((d) => d.offline).length, published, pending, refused, events: { ...this.#events },
    };
  }

  #tick(): void {
    const now = this.#now();
    for (const d of this.devices) d.advanceTo(now);
  }
}
