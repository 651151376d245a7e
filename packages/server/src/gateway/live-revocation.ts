import { type Clock, systemClock } from '@medtrust/core';
import type { Logger } from 'pino';
import type { AuditLog } from '../audit/index.ts';
import type { EventBus } from '../events/index.ts';
import type { DisconnectReason } from './broker/device-broker.ts';

/** What live revocation needs from a broker holding device connections. */
export interface LiveSessions {
  disconnect(deviceId: string, reason: DisconnectReason): number;
  devicesWithCert(serial: string): string[];
  devicesExpiredAt(nowMs: number): string[];
}

/**
 * Cuts live connections when their grounds go away: a revoked certificate (`certificate.revoked`),
 * a quarantined or decommissioned device (`device.state-changed`), an expired certificate (sweep).
 * The event bus polls every 200 ms, so a cut lands well within a second. Returns an unsubscribe.
 */
export function enforceLiveRevocation(opts: { events: EventBus; sessions: LiveSessions; audit: AuditLog; logger: Logger; clock?: Clock; sweepIntervalMs?: number }): () => void {
  const clock = opts.clock ?? systemClock;
  const cut = (deviceId: string, reason: DisconnectReason, details: Record<string, unknown>): void => {
    const n = opts.sessions.disconnect(deviceId, reason);
    if (n === 0) return;
    opts.logger.info({ deviceId, reason }, 'device connection cut');
    void opts.audit.append({ actor: 'system', action: 'gateway.disconnect', target: `device:${deviceId}`, details: { reason, connections: n, ...details } }).catch(() => undefined);
  };
  const offRevoked = opts.events.subscribe('certificate.revoked', (e) => {
    const devices = new Set(opts.sessions.devicesWithCert(e.serial));
    for (const d of devices) cut(d, 'revoked', { serial: e.serial });
  });
  const offState = opts.events.subscribe('device.state-changed', (e) => {
    if (e.to === 'quarantined' || e.to === 'decommissioned') cut(e.deviceId, e.to, { from: e.from });
  });
  const timer = setInterval(() => {
    for (const d of new Set(opts.sessions.devicesExpiredAt(clock.nowMs()))) cut(d, 'expired', {});
  }, opts.sweepIntervalMs ?? 10_000);
  timer.unref();
  return () => {
    offRevoked();
    offState();
    clearInterval(timer);
  };
}
