import { type Clock, systemClock } from '@medtrust/core';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { DeviceMessage } from './device-message.ts';
import { TelemetryError } from './errors.ts';
import { deviceMessageSchema } from './message-schema.ts';

export type Validation = { readonly ok: true; readonly message: DeviceMessage } | { readonly ok: false; readonly error: TelemetryError };

export interface MessageValidatorOptions {
  readonly clock?: Clock;
  /** How far ahead of the platform clock a device timestamp may be. */
  readonly maxFutureSkewMs?: number;
  /** How old a buffered reading may be and still be accepted (the backfill window). */
  readonly backfillWindowMs?: number;
  readonly maxMessageBytes?: number;
}

export const DEFAULT_MAX_FUTURE_SKEW_MS = 5 * 60_000;
export const DEFAULT_BACKFILL_WINDOW_MS = 7 * 24 * 3_600_000;
export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024;

const RANGE_KEYWORDS = new Set(['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum']);

/**
 * Validates raw device payloads on the ingest hot path: the schema is compiled once, bad input is
 * returned as a coded error (never thrown), so a refusal costs no stack capture.
 */
export class MessageValidator {
  readonly #validate: ValidateFunction<DeviceMessage>;
  readonly #clock: Clock;
  readonly #maxFutureSkewMs: number;
  readonly #backfillWindowMs: number;
  readonly #maxMessageBytes: number;

  constructor(opts: MessageValidatorOptions = {}) {
    const ajv = new Ajv({ allErrors: false, strict: true, strictRequired: false, discriminator: true });
    this.#validate = ajv.compile<DeviceMessage>(deviceMessageSchema);
    this.#clock = opts.clock ?? systemClock;
    this.#maxFutureSkewMs = opts.maxFutureSkewMs ?? DEFAULT_MAX_FUTURE_SKEW_MS;
    this.#backfillWindowMs = opts.backfillWindowMs ?? DEFAULT_BACKFILL_WINDOW_MS;
    this.#maxMessageBytes = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  }

  get backfillWindowMs(): number {
    return this.#backfillWindowMs;
  }

  /** Parses and checks one payload (Buffer from MQTT, or an already parsed HTTP body). */
  validate(payload: unknown): Validation {
    let doc: unknown = payload;
    if (typeof payload === 'string' || Buffer.isBuffer(payload)) {
      const len = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
      if (len > this.#maxMessageBytes) return fail('MESSAGE_TOO_LARGE', `message is ${len} bytes; the limit is ${this.#maxMessageBytes}`);
      try {
        doc = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
      } catch {
        return fail('MESSAGE_MALFORMED', 'payload is not JSON');
      }
    }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return fail('MESSAGE_MALFORMED', 'payload is not a JSON object');
    const v = (doc as { v?: unknown }).v;
    if (v !== undefined && v !== 1) return fail('MESSAGE_VERSION_UNSUPPORTED', 'protocol version not supported', { supported: [1] });
    if (!this.#validate(doc)) return schemaFailure(this.#validate.errors?.[0]);
    const m = doc;
    if (m.kind === 'vitals' && m.vitals.nibp) {
      const { systolic, diastolic, mean } = m.vitals.nibp;
      if (diastolic > systolic) return fail('VALUE_OUT_OF_RANGE', 'NIBP diastolic above systolic', { path: '/vitals/nibp/diastolic' });
      if (mean !== undefined && (mean < diastolic || mean > systolic)) return fail('VALUE_OUT_OF_RANGE', 'NIBP mean outside diastolic..systolic', { path: '/vitals/nibp/mean' });
    }
    const now = this.#clock.nowMs();
    if (m.ts > now + this.#maxFutureSkewMs) return fail('TIMESTAMP_IN_FUTURE', 'timestamp is ahead of the platform clock', { maxFutureSkewMs: this.#maxFutureSkewMs });
    if (m.ts < now - this.#backfillWindowMs) return fail('TIMESTAMP_TOO_OLD', 'timestamp is older than the backfill window', { backfillWindowMs: this.#backfillWindowMs });
    return { ok: true, message: m };
  }
}

function fail(code: TelemetryError['code'], message: string, details?: Record<string, unknown>): Validation {
  return { ok: false, error: new TelemetryError(code, message, details ? { details } : {}) };
}

function schemaFailure(e: ErrorObject | undefined): Validation {
  const path = e?.instancePath || '/';
  if (e && RANGE_KEYWORDS.has(e.keyword)) return fail('VALUE_OUT_OF_RANGE', `${path} ${e.message ?? 'out of range'}`, { path, keyword: e.keyword });
  return fail('MESSAGE_INVALID', `${path} ${e?.message ?? 'invalid'}`, { path, keyword: e?.keyword });
}
