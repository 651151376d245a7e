import { CoreError, type MedTrustError } from '@medtrust/core';
import { type DeviceMessage, type MessageValidator, type PresenceService, type TelemetryStore } from '../telemetry/index.ts';
import type { DeviceSession } from './device-authenticator.ts';
import type { GatewayMetrics } from './gateway-metrics.ts';
import type { TokenBuckets } from './token-bucket.ts';

/** Told of every newly stored message (not of duplicates or refusals); must not throw. */
export type StoredListener = (m: { readonly deviceId: string; readonly tenantId: string; readonly receivedAtMs: number; readonly message: DeviceMessage }) => void;

/** A device's command acknowledgement (`devices/{id}/command-results`); resolves once recorded, rejects to withhold the PUBACK. */
export type CommandResultListener = (session: DeviceSession, payload: Buffer) => Promise<void>;

/** A device's update status or desired-state check (`devices/{id}/update-status`); resolves once handled, rejects to withhold the PUBACK. */
export type UpdateStatusListener = (session: DeviceSession, payload: Buffer) => Promise<void>;

export type IngestResult =
  | { readonly kind: 'stored' | 'duplicate'; readonly messageId: string }
  | { readonly kind: 'refused'; readonly messageId: string | null; readonly error: MedTrustError };

/**
 * The one path from a device payload to the store, shared by MQTT and HTTPS: rate limit,
 * validate, store (group commit). Resolves only after the commit; a store failure rejects with
 * INGEST_UNAVAILABLE so that the transport does not acknowledge.
 */
export class DeviceMessageIngest {
  readonly #validator: MessageValidator;
  readonly #store: TelemetryStore;
  readonly #presence: PresenceService;
  readonly #buckets: TokenBuckets;
  readonly #maxRateWaitMs: number;
  readonly #metrics: GatewayMetrics;
  readonly #onStored: StoredListener | undefined;

  constructor(opts: { validator: MessageValidator; store: TelemetryStore; presence: PresenceService; buckets: TokenBuckets; metrics: GatewayMetrics; maxRateWaitMs?: number; onStored?: StoredListener }) {
    this.#onStored = opts.onStored;
    this.#validator = opts.validator;
    this.#store = opts.store;
    this.#presence = opts.presence;
    this.#buckets = opts.buckets;
    this.#metrics = opts.metrics;
    this.#maxRateWaitMs = opts.maxRateWaitMs ?? 2000;
  }

  async handle(session: DeviceSession, payload: unknown, transport: 'mqtt' | 'https'): Promise<IngestResult> {
    this.#presence.seen(session.deviceId);
    // Back-pressure first: a device over its rate waits for a token; only a long wait refuses.
    for (let waited = 0; ;) {
      const waitMs = this.#buckets.take(session.deviceId);
      if (waitMs === 0) break;
      if (waited + waitMs > this.#maxRateWaitMs) return this.#refuse(transport, null, new CoreError('RATE_LIMITED', 'device message rate exceeded', { details: { retryAfterMs: waitMs } }));
      await new Promise((r) => setTimeout(r, waitMs));
      waited += waitMs;
    }
    const v = this.#validator.validate(payload);
    if (!v.ok) return this.#refuse(transport, idOf(payload), v.error);
    const outcome = await this.#store.submit({ deviceId: session.deviceId, tenantId: session.tenantId, message: v.message, transport });
    this.#metrics.messages.inc({ transport, outcome });
    // After the commit and without delaying the acknowledgement: alerts are computed from what
    // was stored, on the message's own device time (late replays included).
    if (outcome === 'stored' && this.#onStored) this.#onStored({ deviceId: session.deviceId, tenantId: session.tenantId, receivedAtMs: Date.now(), message: v.message });
    return { kind: outcome, messageId: v.message.id };
  }

  #refuse(transport: string, messageId: string | null, error: MedTrustError): IngestResult {
    this.#metrics.refused.inc({ transport, code: error.code });
    return { kind: 'refused', messageId, error };
  }
}

/** The message id of a refused payload when it can be read, so the device can match the refusal. */
function idOf(payload: unknown): string | null {
  try {
    const doc: unknown = Buffer.isBuffer(payload) ? JSON.parse(payload.toString('utf8')) : typeof payload === 'string' ? JSON.parse(payload) : payload;
    const id = (doc as { id?: unknown } | null)?.id;
    return typeof id === 'string' && id.length <= 64 ? id : null;
  } catch {
    return null;
  }
}
