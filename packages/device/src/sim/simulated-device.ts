import { join } from 'node:path';
import type { CommandEnvelope } from '@medtrust/core';
import { CommandAgent } from '../commands/command-agent.ts';
import { type EnrolAuth, type EstClient, newKeyAndCsr } from '../est/est-client.ts';
import { DeviceAgent, type DeviceCredentials } from '../mqtt/device-agent.ts';
import { OfflineQueue } from '../queue/offline-queue.ts';
import { GlucoseMonitorModel } from './glucose-model.ts';
import { HealthModel } from './health-model.ts';
import { PatientMonitorModel } from './monitor-model.ts';
import type { SimDeviceKind, SimProfile } from './profiles.ts';
import { InfusionPumpModel } from './pump-model.ts';
import type { SeededRandom } from './seeded-random.ts';

/** A factory-provisioned device as the simulator receives it (the bundle `medtrust factory provision` writes). */
export interface SimIdentity {
  readonly deviceId: string;
  readonly serial: string;
  readonly model: string;
  /** How it proves itself to EST: its IDevID (normal) or a one-time enrolment secret. */
  readonly auth: EnrolAuth;
}

export type SimEventKind = 'desaturation' | 'bradycardia' | 'hypoglycaemia' | 'occlusion' | 'infusion-complete' | 'fault' | 'outage' | 'reconnected' | 'command-executed';

export interface SimEvent {
  readonly serial: string;
  readonly deviceId: string;
  readonly kind: SimEventKind;
  /** Device time. */
  readonly atMs: number;
}

export interface SimulatedDeviceOptions {
  readonly identity: SimIdentity;
  readonly kind: SimDeviceKind;
  readonly firmwareVersion: string;
  readonly profile: SimProfile;
  readonly rng: SeededRandom;
  /** Device time of the first reading (in the past when the fleet backfills). */
  readonly startMs: number;
  /** Before this device time, readings are history: no outages are drawn, they only queue. */
  readonly liveFromMs: number;
  /** Prefix of message ids, unique per run so a rerun's readings are not taken for duplicates. */
  readonly runTag: string;
  /** Folder for the device's offline queue. */
  readonly dir: string;
  readonly mqttUrl: string;
  readonly caPem: string;
  readonly onEvent: (e: SimEvent) => void;
  /** The platform's command-signing public key (PEM), pinned at provisioning: pumps then take signed commands. */
  readonly commandKeyPem?: string;
}

type Model = { readonly kind: 'infusion-pump'; readonly m: InfusionPumpModel } | { readonly kind: 'patient-monitor'; readonly m: PatientMonitorModel } | { readonly kind: 'glucose-monitor'; readonly m: GlucoseMonitorModel };

/**
 * One simulated device: enrols over EST with its birth certificate, then reports readings through
 * the device SDK (offline queue + MQTT agent). Readings are computed on a device-time grid from a
 * seeded generator, so a seed gives the same values whatever the network does; outages and
 * reboots stop the agent while readings keep queueing, and the queue replays them in order, with
 * their original timestamps, once the network is back.
 */
export class SimulatedDevice {
  readonly o: SimulatedDeviceOptions;
  readonly model: Model;
  readonly health: HealthModel;
  readonly queue: OfflineQueue;
  #agent: DeviceAgent | undefined;
  #credentials: DeviceCredentials | undefined;
  #nextReportMs: number;
  #nextHealthMs: number;
  #lastReportMs: number;
  #lastHealthMs: number;
  #seq = 0;
  #offlineUntilMs = 0;
  #transition: Promise<void> = Promise.resolve();
  #rebooted = false;
  #published = 0;
  #refused = 0;
  #outages = 0;

  constructor(o: SimulatedDeviceOptions) {
    this.o = o;
    const r = o.rng;
    this.model = o.kind === 'infusion-pump' ? { kind: o.kind, m: new InfusionPumpModel(r.fork('pump'), o.profile) }
      : o.kind === 'patient-monitor' ? { kind: o.kind, m: new PatientMonitorModel(r.fork('monitor'), o.profile) }
      : { kind: o.kind, m: new GlucoseMonitorModel(r.fork('glucose'), o.profile) };
    this.health = new HealthModel(r.fork('health'), o.profile, o.firmwareVersion, o.startMs);
    // Simulated devices skip fsync: a simulated power cut is not part of the model, and fifty
    // devices fsyncing every reading would measure the disk, not the platform.
    this.queue = new OfflineQueue({ file: join(o.dir, 'queue.jsonl'), fsync: false });
    this.#nextReportMs = o.startMs;
    this.#nextHealthMs = o.startMs;
    this.#lastReportMs = o.startMs - o.profile.reportIntervalMs[o.kind];
    this.#lastHealthMs = o.startMs - o.profile.healthIntervalMs;
  }

  get serial(): string {
    return this.o.identity.serial;
  }

  get deviceId(): string {
    return this.o.identity.deviceId;
  }

  get connected(): boolean {
    return this.#agent?.connected === true;
  }

  get enrolled(): boolean {
    return this.#credentials !== undefined;
  }

  get offline(): boolean {
    return this.#offlineUntilMs > 0;
  }

  stats(): { published: number; pending: number; refused: number; outages: number } {
    return { published: this.#published, pending: this.queue.size, refused: this.#refused, outages: this.#outages };
  }

  /** RFC 7030 simpleenroll: a fresh key, a CSR, the LDevID back. */
  async enrol(est: EstClient): Promise<void> {
    const { keyPem, csrDer } = await newKeyAndCsr(this.deviceId);
    const certPem = await est.simpleEnroll(csrDer, this.o.identity.auth);
    this.#credentials = { deviceId: this.deviceId, certPem, keyPem, caPem: this.o.caPem };
  }

  /** Connects (after enrolment); queued readings start flowing. */
  connect(): void {
    if (!this.#credentials) throw new Error(`${this.serial} is not enrolled`);
    if (!this.#agent) {
      // One connection per device; pumps that take commands keep a persistent session so a
      // command sent during an outage is delivered when they are back.
      const commands = this.o.commandKeyPem !== undefined && this.model.kind === 'infusion-pump';
      this.#agent = new DeviceAgent({ url: this.o.mqttUrl, credentials: this.#credentials, queue: this.queue, backoff: { baseMs: 500, maxMs: 10_000 }, persistentSession: commands });
      this.#agent.on('refused', () => void this.#refused++);
      if (commands && this.o.commandKeyPem) {
        // Registered before the agent first connects; the agent subscribes again on every reconnect.
        void new CommandAgent({ agent: this.#agent, publicKey: this.o.commandKeyPem, handler: (c) => this.#execute(c) }).start();
      }
    }
    if (this.#offlineUntilMs === 0) this.#transition = this.#transition.then(() => this.#online());
  }

  /** Scripted episodes (the demo's desaturation, hypoglycaemia); false when the device cannot show it. */
  trigger(kind: 'desaturation' | 'bradycardia' | 'hypoglycaemia', atMs: number): boolean {
    const m = this.model;
    if (m.kind === 'patient-monitor' && kind !== 'hypoglycaemia') return m.m.trigger(kind, atMs) !== undefined;
    if (m.kind === 'glucose-monitor' && kind === 'hypoglycaemia') return m.m.trigger(kind, atMs) !== undefined;
    return false;
  }

  /** The network is gone for `durationMs` of device time: readings queue on disk meanwhile. */
  outage(atMs: number, durationMs: number): void {
    if (this.#offlineUntilMs > 0) return;
    this.#offlineUntilMs = atMs + durationMs;
    this.#outages++;
    this.o.onEvent({ serial: this.serial, deviceId: this.deviceId, kind: 'outage', atMs });
    this.#transition = this.#transition.then(() => this.#offline());
  }

  /** Takes every reading due up to `nowMs` (device time) and hands it to the agent. */
  advanceTo(nowMs: number): void {
    for (;;) {
      const at = Math.min(this.#nextReportMs, this.#nextHealthMs);
      if (at > nowMs) break;
      if (at >= this.o.liveFromMs) this.#network(at);
      if (this.#nextHealthMs <= this.#nextReportMs) {
        this.#healthReading(at);
        this.#nextHealthMs += this.o.profile.healthIntervalMs;
      } else {
        this.#reading(at);
        this.#nextReportMs += this.o.profile.reportIntervalMs[this.o.kind];
      }
    }
  }

  async stop(): Promise<void> {
    await this.#transition;
    await this.#offline();
    this.queue.close();
  }

  async #online(): Promise<void> {
    this.#agent?.start();
  }

  async #offline(): Promise<void> {
    await this.#agent?.stop();
  }

  /** A command the SDK verified (signature, device, freshness, nonce, carried limits): the pump applies it. */
  async #execute(c: CommandEnvelope): Promise<void> {
    const m = this.model;
    if (m.kind !== 'infusion-pump') throw new Error('not a pump');
    const at = Date.now();
    if (c.kind === 'infusion.stop') m.m.stopInfusion(at);
    else {
      const rate = c.params.rateMlPerH;
      if (typeof rate !== 'number') throw new Error('command carries no volume rate');
      m.m.setRate(rate);
    }
    this.o.onEvent({ serial: this.serial, deviceId: this.deviceId, kind: 'command-executed', atMs: at });
  }

  #network(at: number): void {
    const r = this.o.rng;
    const rates = this.o.profile.ratesPerHour;
    if (this.#offlineUntilMs > 0 && at >= this.#offlineUntilMs) {
      this.#offlineUntilMs = 0;
      this.o.onEvent({ serial: this.serial, deviceId: this.deviceId, kind: 'reconnected', atMs: at });
      if (this.#credentials) this.#transition = this.#transition.then(() => this.#online());
    }
    if (this.#offlineUntilMs > 0) return;
    const dt = this.o.profile.reportIntervalMs[this.o.kind];
    if (r.happens(rates.outage, dt)) this.outage(at, r.between(10_000, 90_000));
    else if (r.happens(rates.fault / 2, dt)) {
      // A watchdog reset: the device reboots, is off the network briefly, reports it afterwards.
      this.health.reboot(at);
      this.#rebooted = true;
      this.o.onEvent({ serial: this.serial, deviceId: this.deviceId, kind: 'fault', atMs: at });
      this.outage(at, r.between(5_000, 15_000));
    }
  }

  #reading(at: number): void {
    const dt = at - this.#lastReportMs;
    this.#lastReportMs = at;
    const m = this.model;
    switch (m.kind) {
      case 'patient-monitor': {
        const { vitals, started } = m.m.step(at, dt);
        if (started) this.o.onEvent({ serial: this.serial, deviceId: this.deviceId, kind: started, atMs: at });
        this.#publish(at, 'vitals', { vitals });
        return;
      }
      case 'glucose-monitor': {
        const { vitals, started } = m.m.step(at, dt);
        if (started) this.o.onEvent({ serial: this.serial, deviceId: this.deviceId, kind: started, atMs: at });
        if (vitals) this.#publish(at, 'vitals', { vitals });
        return;
      }
      case 'infusion-pump': {
        const { infusion, started } = m.m.step(at, dt);
        if (started) this.o.onEvent({ serial: this.serial, deviceId: this.deviceId, kind: started, atMs: at });
        if (this.health.batteryPct < 15) infusion.alarms.push('low-battery');
        this.#publish(at, 'infusion', { infusion });
        return;
      }
      default:
        m satisfies never;
    }
  }

  #healthReading(at: number): void {
    const dt = at - this.#lastHealthMs;
    this.#lastHealthMs = at;
    const codes = this.model.kind === 'infusion-pump' ? [] : this.model.m.faultCodes;
    const body = this.health.step(at, dt, this.#rebooted ? [...codes, 'WATCHDOG-RESET'] : codes);
    this.#rebooted = false;
    this.#publish(at, 'health', { health: body });
  }

  #publish(at: number, kind: 'vitals' | 'infusion' | 'health', body: object): void {
    const id = `${this.o.runTag}-${++this.#seq}`;
    this.#published++;
    if (this.#agent) this.#agent.publish('telemetry', { v: 1, id, ts: Math.round(at), kind, ...body });
    else this.queue.enqueue(`devices/${this.deviceId}/telemetry`, JSON.stringify({ v: 1, id, ts: Math.round(at), kind, ...body }));
  }
}
