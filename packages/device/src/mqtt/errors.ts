import { MedTrustError } from '@medtrust/core';

/** What can go wrong on the device's one MQTT connection (device-side; never sent to the platform). */
export type DeviceAgentErrorCode =
  /** The broker answered a SUBSCRIBE with failure 0x80 (topic policy, ACL). */
  | 'MQTT_SUBSCRIPTION_REFUSED'
  /** Another component already handles this topic on the agent. */
  | 'MQTT_TOPIC_IN_USE'
  /** A component needs a persistent session (`persistentSession: true`) and the agent has none. */
  | 'MQTT_SESSION_NOT_PERSISTENT';

export class DeviceAgentError extends MedTrustError<DeviceAgentErrorCode> {}
