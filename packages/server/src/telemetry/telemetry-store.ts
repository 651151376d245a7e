import { type Clock, systemClock } from '@medtrust/core';
import type { Kysely } from 'kysely';
import type { Database } from '../db/index.ts';
import { type DeviceMessage, samplesOf } from './device-message.ts';
import { TelemetryError } from './errors.ts';

export interface IngestItem {
  readonly deviceId: string;
  readonly tenantId: string;
  readonly message: DeviceMessage;
  readonly transport: 'mqtt' | 'https';
}

/** `stored` the first time a (device, message id) is seen; `duplicate` for a repeat. */
export type IngestOutcome = 'stored' | 'duplicate';

export interface TelemetryStoreOptions {
  readonly db: Kysely<Database>;
  readonly clock?: Clock;
  /** Most messages in one transaction. */
  readonly maxBatch?: number;
  /** How long the first message of an idle period waits for companions before committing. */
  readonly maxDelayMs?: number;
  /** Observes each committed batch (size, commit time); for metrics. */
  readonly onCommit?: (batchSize: number, commitMs: number) => void;
}

interface Pending {
  readonly item: IngestItem;
  resolve(o: IngestOutcome): void;
  reject(e: unknown): void;
}

const SAMPLE_CHUNK = 1000;

/**
 * Durable telemetry ingest with group commit: messages submitted within a few milliseconds share
 * one transaction, and each caller's promise settles only after that transaction committed. The
 * gateway acknowledges (PUBACK, HTTP 202) on that settlement, never before.
 */
export class TelemetryStore {
  readonly #db: Kysely<Database>;
  readonly #clock: Clock;
  readonly #maxBatch: number;
  readonly #maxDelayMs: number;
  readonly #onCommit: ((n: number, ms: number) => void) | undefined;
  #pending: Pending[] = [];
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;

  constructor(opts: TelemetryStoreOptions) {
    this.#db = opts.db;
    this.#clock = opts.clock ?? systemClock;
    this.#maxBatch = opts.maxBatch ?? 500;
    this.#maxDelayMs = opts.maxDelayMs ?? 2;
    this.#onCommit = opts.onCommit;
  }

  /** Resolves once the message is committed (or known); rejects with INGEST_UNAVAILABLE. */
  submit(item: IngestItem): Promise<IngestOutcome> {
    return new Promise<IngestOutcome>((resolve, reject) => {
      this.#pending.push({ item, resolve, reject });
      if (this.#flushing) return; // picked up when the running commit ends
      if (this.#pending.length >= this.#maxBatch) this.#startFlush();
      else this.#timer ??= setTimeout(() => this.#startFlush(), this.#maxDelayMs);
    });
  }

  /** Commits whatever is pending; resolves when nothing is left. */
  async drain(): Promise<void> {
    while (this.#flushing || this.#pending.length > 0) {
      if (!this.#flushing) this.#startFlush();
      await this.#flushing;
    }
  }

  #startFlush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#flushing || this.#pending.length === 0) return;
    const batch = this.#pending.splice(0, this.#maxBatch);
    this.#flushing = this.#commit(batch).finally(() => {
      this.#flushing = undefined;
      // What arrived during the commit forms the next group, without waiting again.
      if (this.#pending.length > 0) this.#startFlush();
    });
  }

  async #commit(batch: Pending[]): Promise<void> {
    const started = performance.now();
    const receivedAt = this.#clock.nowMs();
    // The same id twice in one batch: the first wins, the later ones are duplicates.
    const firstByKey = new Map<string, Pending>();
    for (const p of batch) {
      const key = `${p.item.deviceId}\u0000${p.item.message.id}`;
      if (!firstByKey.has(key)) firstByKey.set(key, p);
    }
    const unique = [...firstByKey.values()];
    let inserted: Set<string>;
    try {
      inserted = await this.#db.transaction().execute(async (trx) => {
        const rows = await trx.insertInto('telemetry_message')
          .values(unique.map(({ item }) => ({
            device_id: item.deviceId, message_id: item.message.id, tenant_id: item.tenantId, kind: item.message.kind,
            device_ts: item.message.ts, received_at: receivedAt, transport: item.transport, payload: JSON.stringify(item.message),
          })))
          .onConflict((oc) => oc.columns(['device_id', 'message_id']).doNothing())
          .returning(['device_id', 'message_id'])
          .execute();
        const keys = new Set(rows.map((r) => `${r.device_id}\u0000${r.message_id}`));
        const samples = unique.filter((p) => keys.has(`${p.item.deviceId}\u0000${p.item.message.id}`)).flatMap(({ item }) =>
          samplesOf(item.message).map((s) => ({ device_id: item.deviceId, metric: s.metric, ts: item.message.ts, value: s.value, message_id: item.message.id })));
        for (let i = 0; i < samples.length; i += SAMPLE_CHUNK) await trx.insertInto('telemetry_sample').values(samples.slice(i, i + SAMPLE_CHUNK)).execute();
        return keys;
      });
    } catch (cause) {
      const err = new TelemetryError('INGEST_UNAVAILABLE', 'telemetry commit failed', { cause });
      for (const p of batch) p.reject(err);
      return;
    }
    this.#onCommit?.(batch.length, performance.now() - started);
    for (const p of batch) {
      const key = `${p.item.deviceId}\u0000${p.item.message.id}`;
      p.resolve(firstByKey.get(key) === p && inserted.has(key) ? 'stored' : 'duplicate');
    }
  }
}
