import { type EstClient, msUntilExpiry, newKeyAndCsr } from './est/est-client.ts';
import type { DeviceAgent, DeviceCredentials } from './mqtt/device-agent.ts';

/**
 * Renews the LDevID over EST simplereenroll when less than `renewBeforeMs` of its life is left,
 * with a fresh key, and switches the agent to it. Returns the credentials now in use.
 */
export async function renewIfDue(o: { est: EstClient; agent: DeviceAgent; credentials: DeviceCredentials; renewBeforeMs: number; nowMs?: number }): Promise<DeviceCredentials> {
  if (msUntilExpiry(o.credentials.certPem, o.nowMs) > o.renewBeforeMs) return o.credentials;
  const { keyPem, csrDer } = await newKeyAndCsr(o.credentials.deviceId);
  const certPem = await o.est.simpleReenroll(csrDer, { certPem: o.credentials.certPem, keyPem: o.credentials.keyPem });
  const next = { ...o.credentials, certPem, keyPem };
  await o.agent.rotate(next);
  return next;
}
