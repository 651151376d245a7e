import { hostname } from 'node:os';
import { isMedTrustError } from '@medtrust/core';
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { DeviceAuthenticator, DeviceSession } from '../../device-authenticator.ts';
import type { CommandResultListener, DeviceMessageIngest, UpdateStatusListener } from '../../device-message-ingest.ts';
import type { GatewayMetrics } from '../../gateway-metrics.ts';
import { publishRefusal } from '../../refusal.ts';
import { COMMAND_RESULTS_SUFFIX, deviceTopic, UPDATE_STATUS_SUFFIX } from '../../topic-policy.ts';
import type { DeviceBroker, DisconnectReason } from '../device-broker.ts';

export const SHARE_GROUP = 'medtrust';

export interface ExternalBrokerOptions {
  /** MEDTRUST_MQTT_URL, with the platform's user and password (docs/gateway.md). */
  readonly url: string;
  /** Connections sharing the subscription: mqtt.js handles one message at a time per connection. */
  readonly consumers?: number;
  readonly authenticator: DeviceAuthenticator;
  readonly ingest: DeviceMessageIngest;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  /** How long a device's admission (valid LDevID, state) is trusted before it is looked up again. */
  readonly sessionCacheMs?: number;
  /** MEDTRUST_NODE_NAME: consumer client ids must be unique per node (a shared id is a session takeover) and stable across restarts. */
  readonly nodeName?: string;
  /** Command acknowledgements go to the platform's command service (clinical). */
  readonly onCommandResult?: CommandResultListener;
  /** Update status reports and desired-state checks go to the updates domain (campaigns). */
  readonly onUpdateStatus?: UpdateStatusListener;
}

/**
 * Consumes device topics from an external broker (Mosquitto, EMQX, HiveMQ) through an MQTT 5
 * shared subscription, so that several platform nodes split the load. mqtt.js sends the PUBACK
 * to the broker only when `handleMessage` calls back, which happens after the store committed.
 * The broker, not the platform, acknowledges the device: durability between the two is the
 * broker's (persistent sessions for the consumers; docs/gateway.md).
 */
export class ExternalBroker implements DeviceBroker {
  readonly kind = 'external';
  readonly #o: ExternalBrokerOptions;
  readonly #clients: MqttClient[] = [];
  #publisher: MqttClient | undefined;
  readonly #sessions = new Map<string, { session: DeviceSession | Error; atMs: number }>();

  constructor(opts: ExternalBrokerOptions) {
    this.#o = opts;
  }

  async start(): Promise<void> {
    const n = this.#o.consumers ?? 4;
    // Its own connection: a consumer is blocked until its handler returns, so a handler awaiting a
    // QoS 1 publish on that consumer (a desired state, a refusal) would never see the PUBACK.
    const publisher = mqtt.connect(this.#o.url, { protocolVersion: 5, clientId: `medtrust-${this.#o.nodeName ?? hostname()}-pub`, clean: true, reconnectPeriod: 1000 });
    publisher.on('error', (e) => this.#o.logger.warn({ err: e }, 'external broker connection error'));
    await connected(publisher);
    this.#publisher = publisher;
    for (let i = 0; i < n; i++) {
      // Stable ids and persistent sessions: the broker keeps queuing for a consumer that restarts.
      const client = mqtt.connect(this.#o.url, {
        protocolVersion: 5, clientId: `medtrust-${this.#o.nodeName ?? hostname()}-${i}`, clean: false, properties: { sessionExpiryInterval: 86_400 }, reconnectPeriod: 1000,
      });
      // In place before the CONNACK: a resumed session delivers its queued messages right after
      // it, and mqtt.js's default handler would PUBACK them unstored.
      client.handleMessage = (packet, callback) => {
        this.#handle(packet).then(() => callback(), (e: Error) => {
          this.#o.logger.error({ err: e }, 'external ingest failed; not acknowledged');
          // Without a PUBACK the broker redelivers after the reconnect.
          client.stream.destroy();
          callback(e);
        });
      };
      client.on('error', (e) => this.#o.logger.warn({ err: e }, 'external broker connection error'));
      await connected(client);
      await client.subscribeAsync(`$share/${SHARE_GROUP}/devices/+/telemetry`, { qos: 1 });
      if (this.#o.onCommandResult) await client.subscribeAsync(`$share/${SHARE_GROUP}/devices/+/${COMMAND_RESULTS_SUFFIX}`, { qos: 1 });
      if (this.#o.onUpdateStatus) await client.subscribeAsync(`$share/${SHARE_GROUP}/devices/+/${UPDATE_STATUS_SUFFIX}`, { qos: 1 });
      this.#clients.push(client);
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.#clients.map((c) => c.endAsync(true)));
    this.#clients.length = 0;
    await this.#publisher?.endAsync(true);
    this.#publisher = undefined;
  }

  async publishToDevice(deviceId: string, suffix: string, payload: Buffer | string): Promise<void> {
    const c = this.#publisher;
    if (c) await c.publishAsync(deviceTopic(deviceId, suffix), payload, { qos: 1 });
  }

  /** The external broker holds the connections; it refuses revoked certificates by its CRL. */
  disconnect(_deviceId: string, _reason: DisconnectReason): number {
    return 0;
  }

  async #handle(packet: IPublishPacket): Promise<void> {
    const [, deviceId] = packet.topic.split('/');
    if (!deviceId) return;
    let session: DeviceSession;
    try {
      session = await this.#session(deviceId);
    } catch (e) {
      const code = isMedTrustError(e) ? e.code : 'INTERNAL';
      this.#o.metrics.authFailures.inc({ transport: 'mqtt-external', code });
      await publishRefusal(this, deviceId, { code, messageId: null, topic: packet.topic }).catch(() => undefined);
      return;
    }
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    if (this.#o.onCommandResult && packet.topic === deviceTopic(deviceId, COMMAND_RESULTS_SUFFIX)) return this.#o.onCommandResult(session, Buffer.from(payload));
    // The device id is the topic's, which Mosquitto's ACL (%u = certificate CN) ties to the sender.
    // Like telemetry, the PUBACK to Mosquitto waits for the campaign to record the status; the
    // listener answers malformed reports on the device's errors topic itself.
    if (this.#o.onUpdateStatus && packet.topic === deviceTopic(deviceId, UPDATE_STATUS_SUFFIX)) return this.#o.onUpdateStatus(session, Buffer.from(payload));
    const r = await this.#o.ingest.handle(session, payload, 'mqtt');
    if (r.kind === 'refused') await publishRefusal(this, deviceId, { code: r.error.code, messageId: r.messageId, topic: packet.topic, details: r.error.details }).catch(() => undefined);
  }

  async #session(deviceId: string): Promise<DeviceSession> {
    const now = Date.now();
    const hit = this.#sessions.get(deviceId);
    if (hit && now - hit.atMs < (this.#o.sessionCacheMs ?? 2000)) {
      if (hit.session instanceof Error) throw hit.session;
      return hit.session;
    }
    try {
      const session = await this.#o.authenticator.authenticateBrokerIdentity(deviceId);
      this.#sessions.set(deviceId, { session, atMs: now });
      return session;
    } catch (e) {
      this.#sessions.set(deviceId, { session: e as Error, atMs: now });
      throw e;
    }
  }
}

/** The first CONNACK, or the first error (then the client is closed). */
function connected(client: MqttClient): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => {
      client.off('connect', onConnect);
      client.end(true);
      reject(e);
    };
    const onConnect = (): void => {
      client.off('error', onError);
      resolve();
    };
    client.once('connect', onConnect);
    client.once('error', onError);
  });
}
