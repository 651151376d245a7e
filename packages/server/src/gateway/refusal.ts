import type { DeviceBroker } from './broker/device-broker.ts';

export interface Refusal {
  readonly code: string;
  readonly messageId: string | null;
  readonly topic: string;
  readonly details?: Readonly<Record<string, unknown>> | undefined;
}

/** Tells the device why a message was refused, on `devices/{id}/errors` (docs/device-protocol.md). */
export function publishRefusal(broker: Pick<DeviceBroker, 'publishToDevice'>, deviceId: string, r: Refusal): Promise<void> {
  const body = { v: 1, code: r.code, messageId: r.messageId, topic: r.topic.slice(0, 256), ...(r.details ? { details: r.details } : {}), at: Date.now() };
  return broker.publishToDevice(deviceId, 'errors', JSON.stringify(body));
}
