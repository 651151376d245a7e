// The device SDK. Update client: ./update/index.ts (its own entry, kept by the updates work).
export { OfflineQueue } from './queue/offline-queue.ts';
export type { QueuedMessage } from './queue/offline-queue.ts';
export { DeviceAgent } from './mqtt/device-agent.ts';
export type { DeviceAgentOptions, DeviceCredentials, Refusal, SubscribeOptions, TopicHandler } from './mqtt/device-agent.ts';
export { DeviceAgentError } from './mqtt/errors.ts';
export type { DeviceAgentErrorCode } from './mqtt/errors.ts';
export { backoffDelayMs } from './mqtt/backoff.ts';
export { EstClient, EstClientError, newKeyAndCsr, msUntilExpiry } from './est/est-client.ts';
export type { EnrolAuth } from './est/est-client.ts';
export { renewIfDue, LdevidRenewal, renewalDueAtMs, DEFAULT_RENEW_BEFORE_DAYS } from './renewal.ts';
export type { LdevidRenewalOptions } from './renewal.ts';
export { CommandAgent, commandPublicKey, BoundedNonceRegistry } from './commands/index.ts';
export type { CommandAgentOptions, CommandHandler, CommandResult } from './commands/index.ts';
