import { createServer, type Server, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { Aedes, type AuthenticateError, type Client, type PublishPacket, type Subscription } from 'aedes';
import { CoreError, isMedTrustError, type MedTrustError, systemClock } from '@medtrust/core';
import type { Logger } from 'pino';
import type { AuditLog } from '../../../audit/index.ts';
import type { PresenceService } from '../../../telemetry/index.ts';
import type { DeviceAuthenticator, DeviceSession } from '../../device-authenticator.ts';
import type { DeviceDirectory } from '../../device-directory.ts';
import type { CommandResultListener, DeviceMessageIngest } from '../../device-message-ingest.ts';
import type { GatewayMetrics } from '../../gateway-metrics.ts';
import { COMMAND_RESULTS_SUFFIX, deviceTopic, mayPublish, maySubscribe, TELEMETRY_SUFFIX } from '../../topic-policy.ts';
import { publishRefusal } from '../../refusal.ts';
import { TokenBuckets } from '../../token-bucket.ts';
import type { DeviceBroker, DisconnectReason } from '../device-broker.ts';

export interface EmbeddedBrokerOptions {
  readonly bindHost: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** Server key and certificate chain (PEM). */
  readonly tls: { readonly key: string; readonly cert: string; readonly clientCas: readonly string[] };
  readonly authenticator: DeviceAuthenticator;
  readonly devices: DeviceDirectory;
  readonly ingest: DeviceMessageIngest;
  readonly presence: PresenceService;
  readonly audit: AuditLog;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  /** Command acknowledgements go to the platform's command service (clinical). */
  readonly onCommandResult?: CommandResultListener;
  /**
   * Command results and update status reports per device (they cost database work, and a device
   * sends a few per command or update): default 10/s sustained, 100 at once.
   */
  readonly controlRateLimit?: { readonly ratePerS: number; readonly burst: number };
}

interface Connection {
  readonly session: DeviceSession;
  readonly client: Client;
  connectionId: number | undefined;
  endReason: DisconnectReason | 'client-closed';
  /** `#cuts` when its authentication began (see `#cuts`). */
  readonly cutsAtAuth: number;
}

/** Why a connection that failed its second check (`#ready`) is closed. */
function reasonOf(e: unknown): DisconnectReason {
  const code = isMedTrustError(e) ? e.code : '';
  return code === 'DEVICE_QUARANTINED' ? 'quarantined' : code === 'DEVICE_DECOMMISSIONED' ? 'decommissioned' : code === 'CERT_EXPIRED' ? 'expired' : 'revoked';
}

/**
 * aedes on a TLS server with mandatory client certificates. Durability seam: aedes calls
 * `authorizePublish` before it writes the PUBACK (lib/handlers/publish.js: authorizePublish, then
 * enqueuePublish which sends PUBACK for QoS 1), so the ingest runs there and calls back only after
 * the store committed; a commit failure calls back with an error and aedes closes the connection
 * without acknowledging.
 */
export class EmbeddedBroker implements DeviceBroker {
  readonly kind = 'embedded';
  readonly #opts: EmbeddedBrokerOptions;
  readonly #byClient = new WeakMap<Client, Connection>();
  readonly #byDevice = new Map<string, Set<Connection>>();
  /**
   * Counts the cuts live revocation asked for (`disconnect`, `devicesWithCert`). A connection
   * whose authentication overlapped one is checked again once it is registered (`#ready`): the
   * cut could not find it while its checks ran, and it must not outlive a quarantine or
   * revocation made then.
   */
  #cuts = 0;
  #aedes: Aedes | undefined;
  #server: Server | undefined;
  #port = 0;
  #onUpdateStatus: ((session: DeviceSession, payload: Buffer) => Promise<void>) | undefined;
  readonly #controlBuckets: TokenBuckets;

  constructor(opts: EmbeddedBrokerOptions) {
    this.#opts = opts;
    this.#controlBuckets = new TokenBuckets({ ratePerS: opts.controlRateLimit?.ratePerS ?? 10, burst: opts.controlRateLimit?.burst ?? 100, clock: systemClock });
  }

  /** Routes `devices/{id}/update-status` to the updates domain (campaign status, desired state). */
  onUpdateStatus(listener: (session: DeviceSession, payload: Buffer) => Promise<void>): void {
    this.#onUpdateStatus = listener;
  }

  get port(): number {
    return this.#port;
  }

  get connectedDevices(): number {
    return this.#byDevice.size;
  }

  async start(): Promise<void> {
    const o = this.#opts;
    const aedes = await Aedes.createBroker({
      authenticate: (client, _u, _p, done) => void this.#authenticate(client, done),
      authorizePublish: (client, packet, done) => {
        if (!client) return done(null); // the platform's own publishes
        this.#authorizePublish(client, packet).then(() => done(null), (e: Error) => done(e));
      },
      authorizeSubscribe: (client, sub, done) => void this.#authorizeSubscribe(client, sub).then((ok) => done(null, ok ? sub : null)),
    });
    aedes.on('clientReady', (client) => void this.#ready(client));
    aedes.on('clientDisconnect', (client) => void this.#gone(client));
    aedes.on('clientError', (client, err) => o.logger.debug({ err, clientId: client.id }, 'mqtt client error'));
    aedes.on('connectionError', (_client, err) => o.logger.debug({ err }, 'mqtt connection error'));
    this.#aedes = aedes;
    const server = createServer({
      key: o.tls.key, cert: o.tls.cert, ca: [...o.tls.clientCas],
      // mTLS: the handshake fails without a certificate chaining to a CA in `ca`.
      requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2',
    }, (socket) => aedes.handle(socket));
    server.on('tlsClientError', (err) => {
      o.metrics.authFailures.inc({ transport: 'mqtt', code: 'TLS_HANDSHAKE' });
      o.logger.debug({ err }, 'mqtt tls handshake refused');
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port, o.bindHost, () => resolve());
    });
    this.#server = server;
    this.#port = (server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const set of this.#byDevice.values()) for (const c of set) c.endReason = 'shutdown';
    await new Promise<void>((r) => (this.#aedes ? this.#aedes.close(() => r()) : r()));
    await new Promise<void>((r) => (this.#server ? this.#server.close(() => r()) : r()));
  }

  publishToDevice(deviceId: string, suffix: string, payload: Buffer | string): Promise<void> {
    const aedes = this.#aedes;
    if (!aedes) return Promise.resolve();
    return new Promise((resolve, reject) => aedes.publish({ cmd: 'publish', topic: deviceTopic(deviceId, suffix), payload: Buffer.from(payload), qos: 1, retain: false, dup: false }, (e) => (e ? reject(e) : resolve())));
  }

  disconnect(deviceId: string, reason: DisconnectReason): number {
    this.#cuts++;
    const set = this.#byDevice.get(deviceId);
    if (!set) return 0;
    for (const c of set) {
      c.endReason = reason;
      c.client.close();
    }
    return set.size;
  }

  /** Devices connected with a given certificate serial (revocation targets a certificate). */
  devicesWithCert(serial: string): string[] {
    this.#cuts++;
    const out: string[] = [];
    for (const [id, set] of this.#byDevice) for (const c of set) if (c.session.certSerial === serial) out.push(id);
    return out;
  }

  /** Sessions whose certificate has expired since they connected. */
  devicesExpiredAt(nowMs: number): string[] {
    const out: string[] = [];
    for (const [id, set] of this.#byDevice) for (const c of set) if (c.session.certNotAfter <= nowMs) out.push(id);
    return out;
  }

  async #authenticate(client: Client, done: (error: AuthenticateError | null, success: boolean | null) => void): Promise<void> {
    const o = this.#opts;
    const socket = client.conn as TLSSocket;
    const cutsAtAuth = this.#cuts;
    try {
      const der = typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate().raw : undefined;
      const session = await o.authenticator.authenticate(der, { transport: 'mqtt', remoteAddress: socket.remoteAddress ?? null });
      // The client id names the session aedes keys takeovers by: another device choosing this
      // device's client id would kick it off, so the client id must be the certificate's device id
      // (or `{device id}-{suffix}` for a second connection of the same device).
      if (client.id !== session.deviceId && !client.id.startsWith(`${session.deviceId}-`)) {
        o.metrics.authFailures.inc({ transport: 'mqtt', code: 'CLIENT_ID_MISMATCH' });
        await o.audit.append({ actor: `device:${session.deviceId}`, action: 'gateway.connect', target: `device:${session.deviceId}`, tenantId: session.tenantId, outcome: 'denied', details: { code: 'CLIENT_ID_MISMATCH', transport: 'mqtt' } });
        return done(Object.assign(new Error('client id must be the device id'), { returnCode: 2 as const }), false);
      }
      this.#byClient.set(client, { session, client, connectionId: undefined, endReason: 'client-closed', cutsAtAuth });
      done(null, true);
    } catch (e) {
      const code = isMedTrustError(e) ? e.code : 'INTERNAL';
      if (!isMedTrustError(e)) o.logger.error({ err: e }, 'mqtt authentication failed unexpectedly');
      o.metrics.authFailures.inc({ transport: 'mqtt', code });
      await o.audit.append({ actor: 'device:unauthenticated', action: 'gateway.connect', outcome: 'denied', details: { code, transport: 'mqtt', remoteAddress: socket.remoteAddress ?? null } }).catch(() => undefined);
      done(Object.assign(new Error(code), { returnCode: 5 as const }), false);
    }
  }

  async #ready(client: Client): Promise<void> {
    const o = this.#opts;
    const conn = this.#byClient.get(client);
    if (!conn) return;
    const { session } = conn;
    let set = this.#byDevice.get(session.deviceId);
    if (!set) this.#byDevice.set(session.deviceId, (set = new Set()));
    set.add(conn);
    o.metrics.connected.set(this.#byDevice.size);
    if (this.#cuts !== conn.cutsAtAuth) {
      // Registered now, so later cuts find it; one made while its checks ran is caught here.
      try {
        const socket = client.conn as TLSSocket;
        await o.authenticator.authenticate(socket.getPeerCertificate().raw, { transport: 'mqtt', remoteAddress: socket.remoteAddress ?? null });
      } catch (e) {
        conn.endReason = reasonOf(e);
        const code = isMedTrustError(e) ? e.code : 'INTERNAL';
        o.metrics.authFailures.inc({ transport: 'mqtt', code });
        await o.audit.append({ actor: `device:${session.deviceId}`, action: 'gateway.connect', target: `device:${session.deviceId}`, tenantId: session.tenantId, outcome: 'denied', details: { code, transport: 'mqtt', certSerial: session.certSerial } }).catch(() => undefined);
        client.close();
        return;
      }
    }
    try {
      conn.connectionId = await o.presence.connected({ deviceId: session.deviceId, tenantId: session.tenantId, transport: 'mqtt', certSerial: session.certSerial, remoteAddress: (client.conn as TLSSocket).remoteAddress ?? null });
      await o.devices.activate(session.deviceId, `device:${session.deviceId}`);
      await o.audit.append({ actor: `device:${session.deviceId}`, action: 'gateway.connect', target: `device:${session.deviceId}`, tenantId: session.tenantId, details: { transport: 'mqtt', certSerial: session.certSerial } });
    } catch (e) {
      o.logger.error({ err: e, deviceId: session.deviceId }, 'recording a device connection failed');
    }
  }

  async #gone(client: Client): Promise<void> {
    const o = this.#opts;
    const conn = this.#byClient.get(client);
    if (!conn) return;
    this.#byClient.delete(client);
    const set = this.#byDevice.get(conn.session.deviceId);
    set?.delete(conn);
    if (set?.size === 0) this.#byDevice.delete(conn.session.deviceId);
    o.metrics.connected.set(this.#byDevice.size);
    if (conn.connectionId !== undefined) await o.presence.disconnected(conn.connectionId, conn.session.deviceId, conn.endReason).catch((e: unknown) => o.logger.error({ err: e }, 'recording a disconnect failed'));
  }

  async #authorizePublish(client: Client, packet: PublishPacket): Promise<void> {
    const o = this.#opts;
    const conn = this.#byClient.get(client);
    if (!conn) throw new Error('not authenticated');
    const { session } = conn;
    if (!mayPublish(session.deviceId, packet.topic)) {
      conn.endReason = 'topic-forbidden';
      await this.#denyTopic(session, 'publish', packet.topic);
      throw new Error('TOPIC_FORBIDDEN');
    }
    const isResult = packet.topic === deviceTopic(session.deviceId, COMMAND_RESULTS_SUFFIX);
    const isStatus = packet.topic === deviceTopic(session.deviceId, 'update-status');
    if ((isResult || isStatus) && this.#controlBuckets.take(session.deviceId) > 0) {
      // As for throttled telemetry: not recorded, so not acknowledged; the device resends later.
      conn.endReason = 'rate-limited';
      o.metrics.refused.inc({ transport: 'mqtt', code: 'RATE_LIMITED' });
      const error = new CoreError('RATE_LIMITED', 'device control message rate exceeded (command results, update status)');
      await this.#refuse(session, null, packet.topic, error);
      throw error;
    }
    if (o.onCommandResult && isResult) {
      // Like telemetry: PUBACK only after the platform recorded the result, so the device resends otherwise.
      await o.onCommandResult(session, Buffer.from(packet.payload));
      return;
    }
    if (isStatus) {
      // PUBACK only after the campaign recorded the status; unrouted or failed, the device resends.
      if (!this.#onUpdateStatus) throw new Error('update status is not routed on this node');
      await this.#onUpdateStatus(session, Buffer.from(packet.payload));
      return;
    }
    if (packet.topic !== deviceTopic(session.deviceId, TELEMETRY_SUFFIX)) return;
    let result;
    try {
      result = await o.ingest.handle(session, packet.payload, 'mqtt');
    } catch (e) {
      // Not stored, so not acknowledged: closing the connection makes the device resend.
      conn.endReason = 'ingest-failed';
      o.logger.error({ err: e, deviceId: session.deviceId }, 'telemetry ingest failed');
      throw e as Error;
    }
    if (result.kind !== 'refused') return;
    await this.#refuse(session, result.messageId, packet.topic, result.error);
    // A throttled message is not stored, so it must not be acknowledged: the connection closes and
    // the device resends it after its reconnect backoff. Only a message that can never be accepted
    // (malformed, impossible) is acknowledged unstored, so the device drops it.
    if (result.error.code === 'RATE_LIMITED') {
      conn.endReason = 'rate-limited';
      throw result.error;
    }
  }

  async #authorizeSubscribe(client: Client, sub: Subscription): Promise<boolean> {
    const conn = this.#byClient.get(client);
    if (!conn) return false;
    if (maySubscribe(conn.session.deviceId, sub.topic)) return true;
    await this.#denyTopic(conn.session, 'subscribe', sub.topic);
    return false;
  }

  async #denyTopic(session: DeviceSession, op: 'publish' | 'subscribe', topic: string): Promise<void> {
    const o = this.#opts;
    o.metrics.refused.inc({ transport: 'mqtt', code: 'TOPIC_FORBIDDEN' });
    await o.audit.append({ actor: `device:${session.deviceId}`, action: `gateway.${op}`, target: `device:${session.deviceId}`, tenantId: session.tenantId, outcome: 'denied', details: { code: 'TOPIC_FORBIDDEN', topic: topic.slice(0, 256) } }).catch(() => undefined);
    await publishRefusal(this, session.deviceId, { code: 'TOPIC_FORBIDDEN', messageId: null, topic }).catch(() => undefined);
  }

  async #refuse(session: DeviceSession, messageId: string | null, topic: string, error: MedTrustError): Promise<void> {
    await publishRefusal(this, session.deviceId, { code: error.code, messageId, topic, details: error.details }).catch((e: unknown) => this.#opts.logger.warn({ err: e }, 'publishing a refusal failed'));
  }
}
