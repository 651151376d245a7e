import type { DisconnectReason } from './broker/device-broker.ts';
import type { LiveSessions } from './live-revocation.ts';

/** Several transports' live connections as one (embedded MQTT broker and HTTPS keep-alive sockets): one cut, one audit entry. */
export function combineLiveSessions(...parts: readonly LiveSessions[]): LiveSessions {
  return {
    disconnect: (deviceId: string, reason: DisconnectReason) => parts.reduce((n, p) => n + p.disconnect(deviceId, reason), 0),
    devicesWithCert: (serial: string) => parts.flatMap((p) => p.devicesWithCert(serial)),
    devicesExpiredAt: (nowMs: number) => parts.flatMap((p) => p.devicesExpiredAt(nowMs)),
  };
}
