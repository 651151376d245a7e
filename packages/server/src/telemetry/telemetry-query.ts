import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/index.ts';
import { METRICS, type Metric } from './device-message.ts';
import { TelemetryError } from './errors.ts';

export interface SeriesRequest {
  readonly deviceId: string;
  readonly metric: string;
  readonly fromMs: number;
  readonly toMs: number;
  /** Downsample into buckets of this width (avg/min/max per bucket); raw points when absent. */
  readonly bucketMs?: number;
}

export type SeriesPoint =
  | { readonly kind: 'raw'; readonly t: number; readonly value: number }
  | { readonly kind: 'bucket'; readonly t: number; readonly avg: number; readonly min: number; readonly max: number; readonly count: number };

export interface StoredMessage {
  readonly id: string;
  readonly kind: string;
  readonly ts: number;
  readonly receivedAt: number;
  readonly message: unknown;
}

const MAX_BUCKETS = 10_000;
const MAX_RAW_POINTS = 10_000;

/** Reads stored telemetry; tenant scoping is the caller's (the route checks the device first). */
export class TelemetryQuery {
  readonly #db: Kysely<Database>;

  constructor(opts: { db: Kysely<Database> }) {
    this.#db = opts.db;
  }

  async series(req: SeriesRequest): Promise<SeriesPoint[]> {
    if (!(METRICS as readonly string[]).includes(req.metric)) throw new TelemetryError('TELEMETRY_RANGE_INVALID', `unknown metric ${req.metric}`, { details: { metrics: METRICS } });
    if (req.fromMs > req.toMs) throw new TelemetryError('TELEMETRY_RANGE_INVALID', 'from is after to');
    const metric = req.metric as Metric;
    const base = this.#db.selectFrom('telemetry_sample').where('device_id', '=', req.deviceId).where('metric', '=', metric)
      .where('ts', '>=', req.fromMs).where('ts', '<=', req.toMs);
    if (req.bucketMs === undefined) {
      const rows = await base.select(['ts', 'value']).orderBy('ts').limit(MAX_RAW_POINTS).execute();
      return rows.map((r) => ({ kind: 'raw', t: Number(r.ts), value: Number(r.value) }));
    }
    const bucketMs = req.bucketMs;
    if (!Number.isInteger(bucketMs) || bucketMs <= 0 || (req.toMs - req.fromMs) / bucketMs > MAX_BUCKETS) {
      throw new TelemetryError('TELEMETRY_RANGE_INVALID', `bucketMs must be a positive integer giving at most ${MAX_BUCKETS} buckets`);
    }
    // A literal (bucketMs is a checked integer): a bound parameter would be a REAL on SQLite (float
    // division) and two distinct expressions on PostgreSQL (GROUP BY mismatch).
    const width = sql.lit(bucketMs);
    const bucket = sql<number>`(ts / ${width}) * ${width}`;
    const rows = await base
      .select([bucket.as('t'), (eb) => eb.fn.avg<number>('value').as('avg'), (eb) => eb.fn.min<number>('value').as('min'), (eb) => eb.fn.max<number>('value').as('max'), (eb) => eb.fn.countAll<number>().as('count')])
      .groupBy(bucket).orderBy(bucket).execute();
    return rows.map((r) => ({ kind: 'bucket', t: Number(r.t), avg: Number(r.avg), min: Number(r.min), max: Number(r.max), count: Number(r.count) }));
  }

  /** Stored messages of a device in device-time order (buffered ones where they belong). */
  async messages(req: { deviceId: string; fromMs: number; toMs: number; limit?: number }): Promise<StoredMessage[]> {
    const rows = await this.#db.selectFrom('telemetry_message').select(['message_id', 'kind', 'device_ts', 'received_at', 'payload'])
      .where('device_id', '=', req.deviceId).where('device_ts', '>=', req.fromMs).where('device_ts', '<=', req.toMs)
      .orderBy('device_ts').orderBy('seq').limit(Math.min(req.limit ?? 1000, 10_000)).execute();
    return rows.map((r) => ({ id: r.message_id, kind: r.kind, ts: Number(r.device_ts), receivedAt: Number(r.received_at), message: JSON.parse(r.payload) as unknown }));
  }
}
