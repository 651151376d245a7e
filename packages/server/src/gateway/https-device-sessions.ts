import type { TLSSocket } from 'node:tls';
import { type Clock, CoreError, isMedTrustError, systemClock } from '@medtrust/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { AuditLog } from '../audit/index.ts';
import { PkiError } from '../pki/index.ts';
import type { DisconnectReason } from './broker/device-broker.ts';
import type { DeviceAuthenticator, DeviceSession } from './device-authenticator.ts';
import type { DeviceDirectory } from './device-directory.ts';
import type { GatewayMetrics } from './gateway-metrics.ts';
import type { LiveSessions } from './live-revocation.ts';

interface Authenticated {
  readonly session: DeviceSession;
  /** When the authenticator last passed this socket (clock ms). */
  readonly atMs: number;
}

/**
 * Device authentication on the HTTPS listener, once per TLS connection: the first request on a
 * socket runs the full `DeviceAuthenticator` (as the MQTT broker does at CONNECT) and later
 * requests on that keep-alive socket reuse its session. Security rests on the connection being
 * cut when its grounds go away: the sockets are a `LiveSessions` registry, so live revocation
 * destroys them on a revoked certificate or a quarantined or decommissioned device, and a request
 * after the certificate's notAfter is refused and its socket closed. What sends no event (an
 * LDevID superseded by renewal, a changed connect policy) is caught by running the full check
 * again on the first request after `reauthenticateAfterMs`.
 */
export class HttpsDeviceSessions implements LiveSessions {
  readonly #authenticator: DeviceAuthenticator;
  readonly #devices: DeviceDirectory;
  readonly #audit: AuditLog;
  readonly #metrics: GatewayMetrics;
  readonly #logger: Logger | undefined;
  readonly #clock: Clock;
  /** The session of each authenticated socket (a promise: pipelined first requests share one authentication). */
  readonly #bySocket = new WeakMap<TLSSocket, Promise<Authenticated>>();
  /** The settled session of each socket whose last check passed (for `sessionOf`). */
  readonly #settled = new WeakMap<TLSSocket, Authenticated>();
  readonly #byDevice = new Map<string, Map<TLSSocket, DeviceSession>>();
  readonly #reauthenticateAfterMs: number;
  /**
   * Counts the cuts live revocation asked for (`disconnect`, `devicesWithCert`). A connection
   * whose authentication overlapped one is checked again once it is registered: the cut could not
   * find it while its checks ran, and it must not outlive a quarantine or revocation made then.
   */
  #cuts = 0;

  constructor(opts: { authenticator: DeviceAuthenticator; devices: DeviceDirectory; audit: AuditLog; metrics: GatewayMetrics; logger?: Logger; clock?: Clock; reauthenticateAfterMs?: number }) {
    this.#reauthenticateAfterMs = opts.reauthenticateAfterMs ?? 60_000;
    this.#authenticator = opts.authenticator;
    this.#devices = opts.devices;
    this.#audit = opts.audit;
    this.#metrics = opts.metrics;
    this.#logger = opts.logger;
    this.#clock = opts.clock ?? systemClock;
  }

  /** Live authenticated TLS connections. */
  get connections(): number {
    let n = 0;
    for (const m of this.#byDevice.values()) n += m.size;
    return n;
  }

  /**
   * The device behind this request's TLS connection; throws a coded error (and closes the
   * connection after the answer) when it must be refused.
   */
  async authenticate(request: FastifyRequest, reply: FastifyReply): Promise<DeviceSession> {
    const socket = request.raw.socket as TLSSocket;
    if (typeof socket.getPeerCertificate !== 'function') throw new CoreError('UNAUTHENTICATED', 'the device API is served over TLS only');
    let pending = this.#bySocket.get(socket);
    if (!pending) {
      pending = this.#connect(socket, request.ip);
      this.#bySocket.set(socket, pending);
    }
    try {
      let auth = await pending;
      const now = this.#clock.nowMs();
      // RFC 5280 §4.1.2.5: not after notAfter; checked per request, the sweep cuts idle sockets.
      if (now >= auth.session.certNotAfter) {
        // Answered with its code, then the connection closes (Connection: close below).
        this.#forget(socket, auth.session);
        throw new PkiError('CERT_EXPIRED', 'the client certificate expired during this connection', { details: { serial: auth.session.certSerial } });
      }
      if (now - auth.atMs >= this.#reauthenticateAfterMs) {
        // One check per socket however many requests arrive meanwhile.
        const current = this.#bySocket.get(socket);
        if (current === pending || current === undefined) {
          pending = this.#recheck(socket, auth.session, request.ip);
          this.#bySocket.set(socket, pending);
        } else {
          pending = current;
        }
        auth = await pending;
      }
      if (this.#bySocket.has(socket)) this.#settled.set(socket, auth);
      return auth.session;
    } catch (e) {
      // A refused connection is not reused: the device retries on a fresh handshake.
      this.#bySocket.delete(socket);
      this.#settled.delete(socket);
      void reply.header('connection', 'close');
      throw e;
    }
  }

  /**
   * The device behind a keep-alive socket whose session is settled and needs no check now (not
   * expired, not due for re-authentication), without waiting; undefined otherwise, and then the
   * caller goes through `authenticate`. For hot paths that answer before Fastify.
   */
  sessionOf(socket: TLSSocket): DeviceSession | undefined {
    const auth = this.#settled.get(socket);
    if (!auth) return undefined;
    const now = this.#clock.nowMs();
    if (now >= auth.session.certNotAfter || now - auth.atMs >= this.#reauthenticateAfterMs) return undefined;
    return auth.session;
  }

  disconnect(deviceId: string, _reason: DisconnectReason): number {
    this.#cuts++;
    const sockets = this.#byDevice.get(deviceId);
    if (!sockets) return 0;
    const n = sockets.size;
    for (const [socket, session] of [...sockets]) this.#drop(socket, session);
    return n;
  }

  devicesWithCert(serial: string): string[] {
    this.#cuts++;
    const out: string[] = [];
    for (const [id, m] of this.#byDevice) for (const s of m.values()) if (s.certSerial === serial) out.push(id);
    return out;
  }

  devicesExpiredAt(nowMs: number): string[] {
    const out: string[] = [];
    for (const [id, m] of this.#byDevice) for (const s of m.values()) if (s.certNotAfter <= nowMs) out.push(id);
    return out;
  }

  async #connect(socket: TLSSocket, remoteAddress: string): Promise<Authenticated> {
    const cuts = this.#cuts;
    let session: DeviceSession;
    try {
      session = await this.#authenticator.authenticate(socket.getPeerCertificate().raw, { transport: 'https', remoteAddress });
    } catch (e) {
      await this.#denied(e, remoteAddress);
      throw e;
    }
    // Refused before it was registered: the socket closed while the authenticator ran.
    if (socket.destroyed) throw new CoreError('UNAUTHENTICATED', 'the connection closed during authentication');
    // The identity this socket was authenticated with must not change under it (TLS 1.2
    // renegotiation could present another certificate); TLS 1.3 has no renegotiation.
    socket.disableRenegotiation();
    let sockets = this.#byDevice.get(session.deviceId);
    if (!sockets) this.#byDevice.set(session.deviceId, (sockets = new Map<TLSSocket, DeviceSession>()));
    sockets.set(socket, session);
    const registered = session;
    socket.once('close', () => this.#forget(socket, registered));
    // Registered now, so later cuts find it; one made while the checks ran is caught here.
    if (this.#cuts !== cuts) session = (await this.#recheck(socket, session, remoteAddress)).session;
    // As at an MQTT CONNECT: first connection activates an enrolled device; every one is audited.
    void (async () => {
      await this.#devices.activate(session.deviceId, `device:${session.deviceId}`);
      await this.#audit.append({ actor: `device:${session.deviceId}`, action: 'gateway.connect', target: `device:${session.deviceId}`, tenantId: session.tenantId, details: { transport: 'https', certSerial: session.certSerial, remoteAddress } });
    })().catch((e: unknown) => this.#logger?.error({ err: e, deviceId: session.deviceId }, 'recording a device HTTPS connection failed'));
    return { session, atMs: this.#clock.nowMs() };
  }

  /** The full check again for a live socket (same certificate: renegotiation is disabled). */
  async #recheck(socket: TLSSocket, previous: DeviceSession, remoteAddress: string): Promise<Authenticated> {
    let session: DeviceSession;
    try {
      session = await this.#authenticator.authenticate(socket.getPeerCertificate().raw, { transport: 'https', remoteAddress });
    } catch (e) {
      this.#forget(socket, previous);
      await this.#denied(e, remoteAddress);
      throw e;
    }
    this.#byDevice.get(session.deviceId)?.set(socket, session);
    return { session, atMs: this.#clock.nowMs() };
  }

  async #denied(e: unknown, remoteAddress: string): Promise<void> {
    const code = isMedTrustError(e) ? e.code : 'INTERNAL';
    this.#metrics.authFailures.inc({ transport: 'https', code });
    await this.#audit.append({ actor: 'device:unauthenticated', action: 'gateway.connect', outcome: 'denied', details: { code, transport: 'https', remoteAddress } }).catch(() => undefined);
  }

  #drop(socket: TLSSocket, session: DeviceSession): void {
    this.#forget(socket, session);
    socket.destroy();
  }

  #forget(socket: TLSSocket, session: DeviceSession): void {
    this.#bySocket.delete(socket);
    this.#settled.delete(socket);
    const sockets = this.#byDevice.get(session.deviceId);
    if (!sockets?.delete(socket)) return;
    if (sockets.size === 0) this.#byDevice.delete(session.deviceId);
  }
}
