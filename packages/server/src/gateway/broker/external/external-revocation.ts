import mqtt from 'mqtt';
import type { Logger } from 'pino';
import type { AuditLog } from '../../../audit/index.ts';
import type { EventBus } from '../../../events/index.ts';
import type { DisconnectReason } from '../device-broker.ts';

/**
 * Ends a device's connection on an external broker by session takeover: connecting with the
 * device's client id makes the broker close the older connection (MQTT 3.1.1 §3.1.4-2, MQTT 5
 * reason 0x8E). Mosquitto keeps one client-id namespace across listeners, so the platform's
 * loopback listener reaches device connections on the mTLS listener. Covers devices that follow
 * the client id rule (client id = device id, docs/device-protocol.md); Mosquitto does not enforce it.
 */
export async function kickByClientId(url: string, clientId: string, timeoutMs = 5000): Promise<void> {
  const c = await mqtt.connectAsync(url, { protocolVersion: 5, clientId, clean: true, reconnectPeriod: 0, connectTimeout: timeoutMs, properties: { sessionExpiryInterval: 0 } });
  await c.endAsync();
}

/**
 * External mode's live revocation: on `certificate.revoked` and on quarantine or decommissioning
 * (heard by every node through the cluster event bus) the device is kicked off the broker. Its
 * reconnect is refused by the broker's TLS check once the broker has the new CRL (Mosquitto
 * re-reads `crlfile` on SIGHUP; docs/scale-out.md) and, until then, its messages by the platform.
 * Returns an unsubscribe.
 */
export function enforceExternalRevocation(o: { events: EventBus; url: string; audit: AuditLog; logger: Logger; node: string }): () => void {
  const kick = (deviceId: string, reason: DisconnectReason, details: Record<string, unknown>): void => {
    kickByClientId(o.url, deviceId).then(async () => {
      o.logger.info({ deviceId, reason }, 'device kicked off the external broker');
      await o.audit.append({ actor: 'system', action: 'gateway.disconnect', target: `device:${deviceId}`, details: { reason, broker: 'external', node: o.node, ...details } });
    }).catch((e: unknown) => o.logger.warn({ err: e, deviceId }, 'could not kick device off the external broker'));
  };
  const offRevoked = o.events.subscribe('certificate.revoked', (e) => {
    if (e.deviceId !== null) kick(e.deviceId, 'revoked', { serial: e.serial });
  });
  const offState = o.events.subscribe('device.state-changed', (e) => {
    if (e.to === 'quarantined' || e.to === 'decommissioned') kick(e.deviceId, e.to, { from: e.from });
  });
  return () => {
    offRevoked();
    offState();
  };
}
