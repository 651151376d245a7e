import { EventEmitter } from 'node:events';
import mqtt, { type MqttClient } from 'mqtt';
import type { OfflineQueue } from '../queue/offline-queue.ts';
import { backoffDelayMs } from './backoff.ts';
import { DeviceAgentError } from './errors.ts';

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
  /**
   * MQTT persistent session (CONNECT with clean = false): the broker keeps the subscriptions and
   * holds what the platform sends on them while the device is away, and delivers it on reconnect.
   * Commands need it (`CommandAgent` refuses an agent without one). Default false.
   */
  readonly persistentSession?: boolean;
}

/** A refusal the platform published on `devices/{id}/errors` (docs/device-protocol.md). */
export interface Refusal {
  readonly code: string;
  readonly messageId: string | null;
}

/** Receives each message the platform sends on a topic a component subscribed to. */
export type TopicHandler = (payload: Buffer) => void;

export interface SubscribeOptions {
  /** Called each time the broker grants the subscription (after every connect): when to ask for the state the topic carries. */
  readonly onGranted?: () => void;
}

interface Subscription {
  readonly handler: TopicHandler;
  readonly onGranted: (() => void) | undefined;
  /** Settles the promise `subscribe` returned, at the first SUBACK. */
  first: { readonly resolve: () => void; readonly reject: (e: Error) => void } | undefined;
}

const ERRORS_SUFFIX = 'errors';
const TELEMETRY_SUFFIX = 'telemetry';

/**
 * The device's one MQTT connection (client id = device id): telemetry, command delivery and
 * results, desired state and update status all travel on it. Every message goes through the
 * on-disk queue first and leaves it only on PUBACK (which the platform sends after storing it),
 * so readings and reports survive restarts and outages and are replayed in order. Components
 * (`CommandAgent`, `UpdateChannel`) register topic handlers, subscribed again on every connect.
 * Reconnects with exponential backoff and full jitter so a fleet coming back after an outage
 * does not stampede the broker.
 */
export class DeviceAgent extends EventEmitter<{ refused: [Refusal]; connected: []; disconnected: []; subscriptionRefused: [string] }> {
  readonly #o: DeviceAgentOptions;
  #credentials: DeviceCredentials;
  #client: MqttClient | undefined;
  /** The client once mqtt.js emitted `connect`: a resumed session may deliver (and a handler publish) before that. */
  #ready: MqttClient | undefined;
  #attempt = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = true;
  readonly #inFlight = new Set<number>();
  readonly #subscriptions = new Map<string, Subscription>();
  /** Unsubscribed while offline: a persistent session at the broker still has them. */
  readonly #dropped = new Set<string>();

  constructor(opts: DeviceAgentOptions) {
    super();
    this.#o = opts;
    this.#credentials = opts.credentials;
    this.#subscriptions.set(ERRORS_SUFFIX, { handler: (p) => this.#onRefusal(p), onGranted: undefined, first: undefined });
  }

  get deviceId(): string {
    return this.#credentials.deviceId;
  }

  get persistentSession(): boolean {
    return this.#o.persistentSession === true;
  }

  get connected(): boolean {
    return this.#client?.connected === true;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#connect();
  }

  /** Closes the connection; a persistent session stays at the broker and collects what arrives meanwhile. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#client?.endAsync(true);
    this.#client = undefined;
  }

  /** Queues a message on disk, then sends it when connected. */
  publish(suffix: string, message: object): void {
    this.#o.queue.enqueue(this.#topic(suffix), JSON.stringify(message));
    this.#pump();
  }

  /**
   * Sends at QoS 1 now, bypassing the disk queue; false when not connected. For requests repeated
   * on every connect anyway (the desired-state check), which must not pile up while offline.
   */
  publishIfConnected(suffix: string, message: object): boolean {
    const client = this.#live();
    if (!client) return false;
    client.publish(this.#topic(suffix), JSON.stringify(message), { qos: 1 });
    return true;
  }

  /**
   * Handles `devices/{id}/{suffix}` (one exact topic) on this connection, subscribing again after
   * every connect. With a persistent session register before `start()`: the broker delivers what
   * waited for the device as soon as it connects. Resolves at the first grant; rejects with
   * MQTT_SUBSCRIPTION_REFUSED, and every refusal also emits `subscriptionRefused`.
   */
  subscribe(suffix: string, handler: TopicHandler, opts: SubscribeOptions = {}): Promise<void> {
    if (this.#subscriptions.has(suffix)) throw new DeviceAgentError('MQTT_TOPIC_IN_USE', `devices/{id}/${suffix} already has a handler`);
    const granted = new Promise<void>((resolve, reject) => this.#subscriptions.set(suffix, { handler, onGranted: opts.onGranted, first: { resolve, reject } }));
    // Refusals are emitted too: a caller that does not wait for the grant gets no unhandled rejection.
    granted.catch(() => undefined);
    this.#dropped.delete(suffix);
    const client = this.#live();
    if (client) this.#subscribeOn(client, suffix);
    return granted;
  }

  /** Stops handling `devices/{id}/{suffix}` and unsubscribes at the broker (now, or at the next connect). */
  unsubscribe(suffix: string): void {
    if (suffix === ERRORS_SUFFIX || !this.#subscriptions.delete(suffix)) return;
    const client = this.#live();
    if (client) client.unsubscribe(this.#topic(suffix));
    else this.#dropped.add(suffix);
  }

  /** Switches to renewed credentials (after EST re-enrolment): reconnects with the new LDevID, same client id and session. */
  async rotate(credentials: DeviceCredentials): Promise<void> {
    this.#credentials = credentials;
    clearTimeout(this.#timer);
    const old = this.#client;
    // Detached first: its close must not schedule a reconnect of its own, or two clients with
    // one client id would take the session from each other (and a command could reach the loser).
    this.#client = undefined;
    if (old) {
      const wasConnected = old.connected;
      await old.endAsync(true);
      if (wasConnected) this.emit('disconnected');
    }
    if (!this.#stopped) this.#connect();
  }

  /** The current client when connected and past its `connect` event (the connect handler subscribes and pumps). */
  #live(): MqttClient | undefined {
    const client = this.#client;
    return client?.connected && this.#ready === client ? client : undefined;
  }

  #topic(suffix: string): string {
    return `devices/${this.#credentials.deviceId}/${suffix}`;
  }

  #connect(): void {
    const c = this.#credentials;
    const client = mqtt.connect(this.#o.url, {
      clientId: c.deviceId, cert: c.certPem, key: c.keyPem, ca: c.caPem, protocolVersion: 4, clean: !this.persistentSession,
      // Reconnection is ours (backoff with jitter), not mqtt.js's fixed period.
      reconnectPeriod: 0, connectTimeout: 10_000,
    });
    this.#client = client;
    client.on('connect', () => {
      this.#attempt = 0;
      // Each connect is a new mqtt.js client whose store is empty: mqtt.js resends nothing, even
      // when the broker resumes the session, so the queue alone replays what was not acknowledged.
      this.#inFlight.clear();
      this.#ready = client;
      for (const suffix of this.#dropped) client.unsubscribe(this.#topic(suffix));
      this.#dropped.clear();
      // Every connect: a clean session starts without subscriptions, and a broker restart may
      // have lost a persistent one. Messages the resumed session delivers first find the handlers.
      for (const suffix of this.#subscriptions.keys()) this.#subscribeOn(client, suffix);
      this.emit('connected');
      this.#pump();
    });
    client.on('message', (topic, payload) => {
      if (this.#client !== client) return;
      const prefix = `devices/${c.deviceId}/`;
      if (!topic.startsWith(prefix)) return;
      const sub = this.#subscriptions.get(topic.slice(prefix.length));
      try {
        sub?.handler(payload);
      } catch {
        // A component's failure must not take the connection down (mqtt.js would see it as a stream error).
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

  #subscribeOn(client: MqttClient, suffix: string): void {
    client.subscribe(this.#topic(suffix), { qos: 1 }, (err, _granted, packet) => {
      const sub = this.#subscriptions.get(suffix);
      if (!sub || this.#client !== client) return;
      // mqtt.js reports a SUBACK failure (0x80) as an error carrying the packet; any other error
      // is the connection closing, and the next connect subscribes again.
      const refused = packet?.granted.some((rc) => typeof rc === 'number' && (rc & 0x80) !== 0) === true;
      if (refused) {
        sub.first?.reject(new DeviceAgentError('MQTT_SUBSCRIPTION_REFUSED', `the broker refused the subscription to ${this.#topic(suffix)}`));
        sub.first = undefined;
        this.emit('subscriptionRefused', suffix);
        return;
      }
      if (err) return;
      sub.first?.resolve();
      sub.first = undefined;
      sub.onGranted?.();
    });
  }

  #onRefusal(payload: Buffer): void {
    try {
      const r = JSON.parse(payload.toString()) as Refusal;
      this.emit('refused', { code: r.code, messageId: r.messageId });
    } catch {
      // not ours to interpret
    }
  }

  /**
   * Sends queued messages in order, keeping at most `window` awaiting a PUBACK. Readings are
   * pipelined; reports that move a state machine on the platform (command results, update status)
   * go one at a time per topic, because a broker may handle the packets of one read concurrently
   * (aedes does) and `executed` must not race `accepted`.
   */
  #pump(): void {
    const client = this.#live();
    if (!client) return;
    const window = this.#o.window ?? 10;
    const busy = new Set<string>();
    for (const m of this.#o.queue.pending()) {
      if (this.#inFlight.size >= window) return;
      const pipelined = m.topic.endsWith(`/${TELEMETRY_SUFFIX}`);
      if (this.#inFlight.has(m.seq)) {
        if (!pipelined) busy.add(m.topic);
        continue;
      }
      if (!pipelined) {
        if (busy.has(m.topic)) continue;
        busy.add(m.topic);
      }
      this.#inFlight.add(m.seq);
      client.publish(m.topic, m.payload, { qos: 1 }, (err) => {
        // A PUBACK means stored, whichever connection carried it.
        if (!err) this.#o.queue.ack(m.seq);
        // A late callback of a replaced client must not free a slot the new client's send holds.
        if (this.#client !== client) return;
        this.#inFlight.delete(m.seq);
        if (err) return; // stays queued; resent after the reconnect
        this.#pump();
      });
    }
  }
}
