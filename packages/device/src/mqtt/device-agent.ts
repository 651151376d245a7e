import { EventEmitter } from 'node:events';
import mqtt, { type MqttClient } from 'mqtt';
import type { OfflineQueue } from '../queue/offline-queue.ts';
import { backoffDelayMs } from './backoff.ts';

export interface DeviceCredentials {
  readonly deviceId: string;
  /** LDevID and its key (PEM). */
  readonly certPem: string;
  readonly keyPem: string;
  /** CA bundle that verifies the platform's MQTT server certificate. */
  readonly caPem: string;
}

export interface DeviceAgentOptions {
  /** `mqtts://host:port`. */
  readonly url: string;
  readonly credentials: DeviceCredentials;
  readonly queue: OfflineQueue;
  /** Messages in flight (awaiting PUBACK). */
  readonly window?: number;
  readonly backoff?: { readonly baseMs: number; readonly maxMs: number };
}

/** A refusal the platform published on `devices/{id}/errors` (docs/device-protocol.md). */
export interface Refusal {
  readonly code: string;
  readonly messageId: string | null;
}

/**
 * The device side of MQTT: every message goes through the on-disk queue first and leaves it only
 * on PUBACK (which the platform sends after storing it), so readings survive restarts and
 * outages and are replayed in order. Reconnects with exponential backoff and full jitter so a
 * fleet coming back after an outage does not stampede the broker.
 */
export class DeviceAgent extends EventEmitter<{ refused: [Refusal]; connected: []; disconnected: [] }> {
  readonly #o: DeviceAgentOptions;
  #credentials: DeviceCredentials;
  #client: MqttClient | undefined;
  #attempt = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #inFlight = new Set<number>();

  constructor(opts: DeviceAgentOptions) {
    super();
    this.#o = opts;
    this.#credentials = opts.credentials;
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
    await this.#client?.endAsync(true);
    this.#client = undefined;
  }

  /** Queues a message on disk, then sends it when connected. */
  publish(suffix: string, message: object): void {
    this.#o.queue.enqueue(`devices/${this.#credentials.deviceId}/${suffix}`, JSON.stringify(message));
    this.#pump();
  }

  /** Switches to renewed credentials (after EST re-enrolment): reconnects with the new LDevID. */
  async rotate(credentials: DeviceCredentials): Promise<void> {
    this.#credentials = credentials;
    await this.#client?.endAsync(true);
    this.#client = undefined;
    if (!this.#stopped) this.#connect();
  }

  #connect(): void {
    const c = this.#credentials;
    const client = mqtt.connect(this.#o.url, {
      clientId: c.deviceId, cert: c.certPem, key: c.keyPem, ca: c.caPem, protocolVersion: 4, clean: true,
      // Reconnection is ours (backoff with jitter), not mqtt.js's fixed period.
      reconnectPeriod: 0, connectTimeout: 10_000,
    });
    this.#client = client;
    client.on('connect', () => {
      this.#attempt = 0;
      this.#inFlight.clear();
      client.subscribe(`devices/${c.deviceId}/errors`, { qos: 1 });
      this.emit('connected');
      this.#pump();
    });
    client.on('message', (topic, payload) => {
      if (!topic.endsWith('/errors')) return;
      try {
        const r = JSON.parse(payload.toString()) as Refusal;
        this.emit('refused', { code: r.code, messageId: r.messageId });
      } catch {
        // not ours to interpret
      }
    });
    client.on('error', () => undefined);
    client.on('close', () => {
      if (this.#client !== client) return;
      this.#inFlight.clear();
      this.emit('disconnected');
      if (this.#stopped) return;
      const delay = backoffDelayMs(this.#attempt++, this.#o.backoff ?? { baseMs: 1000, maxMs: 60_000 });
      this.#timer = setTimeout(() => this.#connect(), delay);
    });
  }

  /** Sends queued messages in order, keeping at most `window` awaiting a PUBACK. */
  #pump(): void {
    const client = this.#client;
    if (!client?.connected) return;
    const window = this.#o.window ?? 10;
    for (const m of this.#o.queue.pending()) {
      if (this.#inFlight.size >= window) return;
      if (this.#inFlight.has(m.seq)) continue;
      this.#inFlight.add(m.seq);
      client.publish(m.topic, m.payload, { qos: 1 }, (err) => {
        this.#inFlight.delete(m.seq);
        if (err) return; // stays queued; resent after the reconnect
        this.#o.queue.ack(m.seq);
        this.#pump();
      });
    }
  }
}
