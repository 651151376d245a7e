import { EventEmitter } from 'node:events';
import mqtt, { type MqttClient } from 'mqtt';
import { backoffDelayMs } from '../mqtt/backoff.ts';
import type { DeviceCredentials } from '../mqtt/device-agent.ts';
import type { UpdateClient, UpdateResult } from './update-client.ts';
import type { UpdateStatus } from './update-status.ts';

/** The platform's word on `devices/{id}/updates/desired` (docs/updates.md). */
export type DesiredStateMessage =
  | { readonly v: 1; readonly kind: 'none' }
  | { readonly v: 1; readonly kind: 'wait'; readonly campaignId: string; readonly reason: string }
  | { readonly v: 1; readonly kind: 'install'; readonly campaignId: string; readonly releaseId: string; readonly version: string; readonly target: string; readonly emergency: boolean };

export interface UpdateChannelOptions {
  /** `mqtts://host:port` of the platform's broker. */
  readonly url: string;
  readonly credentials: DeviceCredentials;
  readonly client: UpdateClient;
  readonly backoff?: { readonly baseMs: number; readonly maxMs: number };
  /** After a deferral (therapy running) or a wait, ask again this much later. */
  readonly recheckMs?: number;
}

/**
 * The device's half of campaigns over MQTT. Its own connection (client id `{device id}-updates`,
 * which the gateway allows) so the telemetry agent is untouched. On every (re)connect it
 * subscribes to its desired-state topic and then asks for the current state, which is how it
 * catches up after being offline; it installs what it is told through the TUF client, which
 * verifies everything again, and reports each step tagged with the campaign.
 */
export class UpdateChannel extends EventEmitter<{ desired: [DesiredStateMessage]; result: [UpdateResult | Error] }> {
  readonly #o: UpdateChannelOptions;
  #client: MqttClient | undefined;
  #stopped = true;
  #attempt = 0;
  #timer: NodeJS.Timeout | undefined;
  #recheck: NodeJS.Timeout | undefined;
  #busy = false;
  #next: DesiredStateMessage | undefined;
  /** The newest status not yet acknowledged by the platform; resent after a reconnect. */
  #unsent: string | undefined;

  constructor(opts: UpdateChannelOptions) {
    super();
    this.#o = opts;
  }

  get connected(): boolean {
    return this.#client?.connected === true;
  }

  start(): void {
    this.#stopped = false;
    this.#connect();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#recheck);
    await this.#client?.endAsync(true);
    this.#client = undefined;
  }

  /** Asks the platform for this device's desired state (also done on every connect). */
  check(): void {
    this.#client?.publish(this.#topic('update-status'), JSON.stringify({ v: 1, kind: 'check' }), { qos: 1 });
  }

  #topic(suffix: string): string {
    return `devices/${this.#o.credentials.deviceId}/${suffix}`;
  }

  #connect(): void {
    const c = this.#o.credentials;
    const client = mqtt.connect(this.#o.url, {
      clientId: `${c.deviceId}-updates`, cert: c.certPem, key: c.keyPem, ca: c.caPem, protocolVersion: 4, clean: true,
      reconnectPeriod: 0, connectTimeout: 10_000,
    });
    this.#client = client;
    client.on('connect', () => {
      this.#attempt = 0;
      // Subscribe first: the answer to the check must find the subscription in place.
      client.subscribe(this.#topic('updates/desired'), { qos: 1 }, (err) => {
        if (err) return;
        if (this.#unsent) this.#publishStatus(this.#unsent);
        this.check();
      });
    });
    client.on('message', (topic, payload) => {
      if (topic !== this.#topic('updates/desired')) return;
      const d = parseDesired(payload);
      if (!d) return;
      this.emit('desired', d);
      this.#onDesired(d);
    });
    client.on('error', () => undefined);
    client.on('close', () => {
      if (this.#client !== client || this.#stopped) return;
      const delay = backoffDelayMs(this.#attempt++, this.#o.backoff ?? { baseMs: 1000, maxMs: 60_000 });
      this.#timer = setTimeout(() => this.#connect(), delay);
    });
  }

  #onDesired(d: DesiredStateMessage): void {
    clearTimeout(this.#recheck);
    if (d.kind === 'none') return;
    if (d.kind === 'wait') {
      // A maintenance window or a phase opens later; the platform also pushes phase changes.
      this.#scheduleRecheck();
      return;
    }
    if (this.#busy) {
      this.#next = d;
      return;
    }
    void this.#install(d);
  }

  async #install(d: DesiredStateMessage & { kind: 'install' }): Promise<void> {
    this.#busy = true;
    try {
      const r = await this.#o.client.update({ version: d.version, onStatus: (s) => this.#status(d.campaignId, s) });
      // Already running it (installed earlier, or the report was lost): say so, the campaign counts it.
      if (r.kind === 'up-to-date') this.#status(d.campaignId, { kind: 'installed', version: r.version, slot: this.#o.client.slots.active() });
      // The clinical safety gate: ask again later; the platform never overrides it.
      if (r.kind === 'deferred') this.#scheduleRecheck();
      this.emit('result', r);
    } catch (e) {
      // The client already reported `failed` with its code.
      this.emit('result', e instanceof Error ? e : new Error(String(e)));
    } finally {
      this.#busy = false;
      const next = this.#next;
      this.#next = undefined;
      if (next) this.#onDesired(next);
    }
  }

  #scheduleRecheck(): void {
    clearTimeout(this.#recheck);
    if (this.#stopped) return;
    // Keeps asking until a desired state arrives (which clears this): the platform drops checks
    // that come faster than it allows, and a check sent while disconnected is lost.
    this.#recheck = setTimeout(() => {
      this.check();
      this.#scheduleRecheck();
    }, this.#o.recheckMs ?? 60_000);
  }

  #status(campaignId: string, s: UpdateStatus): void {
    const body: Record<string, unknown> = { v: 1, campaignId, kind: s.kind, version: s.version };
    if (s.kind === 'pending' && s.reason) body.reason = s.reason;
    if (s.kind === 'failed' || s.kind === 'rolled-back') body.code = s.code;
    this.#publishStatus(JSON.stringify(body));
  }

  #publishStatus(payload: string): void {
    this.#unsent = payload;
    const client = this.#client;
    if (!client?.connected) return;
    client.publish(this.#topic('update-status'), payload, { qos: 1 }, (err) => {
      if (!err && this.#unsent === payload) this.#unsent = undefined;
    });
  }
}

function parseDesired(payload: Buffer): DesiredStateMessage | undefined {
  try {
    const d = JSON.parse(payload.toString('utf8')) as DesiredStateMessage;
    if (d.v !== 1) return undefined;
    if (d.kind === 'none') return d;
    if (d.kind === 'wait' && typeof d.campaignId === 'string') return d;
    if (d.kind === 'install' && typeof d.campaignId === 'string' && typeof d.version === 'string') return d;
  } catch {
    // not a desired state
  }
  return undefined;
}
