import { type Clock, systemClock } from '@medtrust/core';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { AuditLog } from '../audit/index.ts';
import type { Database } from '../db/index.ts';
import type { EventBus } from '../events/index.ts';
import type { CertificateStore } from '../pki/index.ts';
import { MessageValidator, PresenceService, TelemetryQuery, TelemetryStore } from '../telemetry/index.ts';
import { EmbeddedBroker } from './broker/embedded/embedded-broker.ts';
import { ExternalBroker } from './broker/external/external-broker.ts';
import { enforceExternalRevocation } from './broker/external/external-revocation.ts';
import { type DeviceAdmission, DeviceAuthenticator } from './device-authenticator.ts';
import type { DeviceDirectory } from './device-directory.ts';
import { type CommandResultListener, DeviceMessageIngest, type StoredListener, type UpdateStatusListener } from './device-message-ingest.ts';
import { GatewayMetrics } from './gateway-metrics.ts';
import { combineLiveSessions } from './combined-live-sessions.ts';
import { HttpsDeviceSessions } from './https-device-sessions.ts';
import { enforceLiveRevocation, type LiveSessions } from './live-revocation.ts';
import { TokenBuckets } from './token-bucket.ts';

export interface DeviceGatewayOptions {
  /** Told of every newly stored device message (alerts, clinical follow-up). */
  readonly onStored?: StoredListener;
  /** Told of every command acknowledgement a device publishes (clinical command service). */
  readonly onCommandResult?: CommandResultListener;
  /** Told of every update status report and desired-state check (`devices/{id}/update-status`), either broker. */
  readonly onUpdateStatus?: UpdateStatusListener;
  readonly db: Kysely<Database>;
  readonly audit: AuditLog;
  readonly events: EventBus;
  readonly logger: Logger;
  readonly metrics: Registry;
  readonly clock?: Clock;
  /** This node's id (the event bus origin): presence rows name the node holding a connection. */
  readonly node: string;
  readonly certificates: CertificateStore;
  readonly devices: DeviceDirectory;
  readonly mqtt: { readonly bindHost: string; readonly port: number; readonly tls: { readonly key: string; readonly cert: string; readonly clientCas: readonly string[] }; readonly controlRateLimit?: { readonly ratePerS: number; readonly burst: number } } | undefined;
  /** External mode: consume device topics from this broker instead of embedding one. */
  readonly external?: { readonly url: string; readonly consumers?: number; readonly nodeName?: string };
  readonly rateLimit?: { readonly ratePerS: number; readonly burst: number };
  /** Connect-time policy check (the policy engine); none when absent. */
  readonly admission?: DeviceAdmission;
  readonly commitDelayMs?: number;
}

/**
 * The device-facing side of the platform: authentication from certificates, the shared ingest
 * path (validation, rate limit, durable store) for MQTT and HTTPS, presence, and the embedded
 * broker when no external one is configured.
 */
export class DeviceGateway {
  readonly authenticator: DeviceAuthenticator;
  readonly ingest: DeviceMessageIngest;
  readonly store: TelemetryStore;
  readonly query: TelemetryQuery;
  readonly presence: PresenceService;
  readonly metrics: GatewayMetrics;
  readonly broker: EmbeddedBroker | undefined;
  readonly external: ExternalBroker | undefined;
  /** Authenticated HTTPS keep-alive connections (the device HTTPS API), cut like MQTT sessions. */
  readonly https: HttpsDeviceSessions;
  /** The per-device token buckets of the ingest; the device HTTPS update endpoints take from them too. */
  readonly buckets: TokenBuckets;
  readonly #stopRevocation: () => void;

  private constructor(parts: { authenticator: DeviceAuthenticator; ingest: DeviceMessageIngest; store: TelemetryStore; query: TelemetryQuery; presence: PresenceService; metrics: GatewayMetrics; broker: EmbeddedBroker | undefined; external: ExternalBroker | undefined; https: HttpsDeviceSessions; buckets: TokenBuckets; stopRevocation: () => void }) {
    this.https = parts.https;
    this.buckets = parts.buckets;
    this.authenticator = parts.authenticator;
    this.ingest = parts.ingest;
    this.store = parts.store;
    this.query = parts.query;
    this.presence = parts.presence;
    this.metrics = parts.metrics;
    this.broker = parts.broker;
    this.external = parts.external;
    this.#stopRevocation = parts.stopRevocation;
  }

  static async start(o: DeviceGatewayOptions): Promise<DeviceGateway> {
    const clock = o.clock ?? systemClock;
    const metrics = new GatewayMetrics(o.metrics);
    const store = new TelemetryStore({ db: o.db, clock, maxDelayMs: o.commitDelayMs ?? 2, onCommit: (n) => metrics.commitBatch.observe(n) });
    const presence = new PresenceService({ db: o.db, clock, node: o.node });
    // Connections this node held before a crash are over; say so in the history.
    await presence.closeAllOfNode('node-restarted');
    // Heartbeat before the first connection: the cluster's stale-node job spares this node's devices.
    await presence.heartbeat();
    presence.start();
    const authenticator = new DeviceAuthenticator({ certificates: o.certificates, devices: o.devices, clock, ...(o.admission ? { admission: o.admission } : {}) });
    const buckets = new TokenBuckets({ ratePerS: o.rateLimit?.ratePerS ?? 50, burst: o.rateLimit?.burst ?? 500, clock });
    const ingest = new DeviceMessageIngest({ validator: new MessageValidator({ clock }), store, presence, buckets, metrics, onStored: o.onStored });
    const https = new HttpsDeviceSessions({ authenticator, devices: o.devices, audit: o.audit, metrics, logger: o.logger, clock });
    let live: LiveSessions = https;
    let broker: EmbeddedBroker | undefined;
    if (o.mqtt) {
      broker = new EmbeddedBroker({ ...o.mqtt, authenticator, devices: o.devices, ingest, presence, audit: o.audit, metrics, logger: o.logger, ...(o.onCommandResult ? { onCommandResult: o.onCommandResult } : {}) });
      if (o.onUpdateStatus) broker.onUpdateStatus(o.onUpdateStatus);
      await broker.start();
      live = combineLiveSessions(broker, https);
    }
    // This node's connections (embedded MQTT sessions, HTTPS keep-alive sockets) in either mode.
    const stops = [enforceLiveRevocation({ events: o.events, sessions: live, audit: o.audit, logger: o.logger, clock })];
    let external: ExternalBroker | undefined;
    if (o.external) {
      // The external broker already acknowledged the device: throttling here could only drop
      // data, so its ingest has no rate limit (the broker's own limits apply).
      const unthrottled = new DeviceMessageIngest({ validator: new MessageValidator({ clock }), store, presence, buckets: new TokenBuckets({ ratePerS: 1e9, burst: 1e9, clock }), metrics, onStored: o.onStored });
      external = new ExternalBroker({ url: o.external.url, consumers: o.external.consumers, ...(o.external.nodeName ? { nodeName: o.external.nodeName } : {}), authenticator, ingest: unthrottled, metrics, logger: o.logger, ...(o.onCommandResult ? { onCommandResult: o.onCommandResult } : {}), ...(o.onUpdateStatus ? { onUpdateStatus: o.onUpdateStatus } : {}) });
      await external.start();
      stops.push(enforceExternalRevocation({ events: o.events, url: o.external.url, audit: o.audit, logger: o.logger, node: o.node }));
    }
    const stopRevocation = (): void => stops.forEach((stop) => stop());
    return new DeviceGateway({ authenticator, ingest, store, query: new TelemetryQuery({ db: o.db }), presence, metrics, broker, external, https, buckets, stopRevocation });
  }

  async stop(): Promise<void> {
    this.#stopRevocation();
    await this.broker?.stop();
    await this.external?.stop();
    await this.store.drain();
    await this.presence.stop();
  }
}
