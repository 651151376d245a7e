import { type Clock, newId, systemClock } from '@medtrust/core';
import type { Kysely } from 'kysely';
import type { Database } from '../db/index.ts';
import type { EventOf, PlatformEvent, PlatformEventKind } from './platform-event.ts';

export type EventHandler<K extends PlatformEventKind> = (event: EventOf<K>) => void | Promise<void>;

export interface EventBus {
  publish(event: PlatformEvent): Promise<void>;
  subscribe<K extends PlatformEventKind>(kind: K, handler: EventHandler<K>): () => void;
}

/** Delivers in-process only: for unit tests and single-shot CLI work with nothing listening. */
export class LocalEventBus implements EventBus {
  readonly #handlers = new Map<string, Set<(e: PlatformEvent) => void | Promise<void>>>();
  onError: (e: unknown) => void = () => undefined;

  async publish(event: PlatformEvent): Promise<void> {
    this.deliver(event);
  }

  subscribe<K extends PlatformEventKind>(kind: K, handler: EventHandler<K>): () => void {
    let set = this.#handlers.get(kind);
    if (!set) this.#handlers.set(kind, (set = new Set()));
    const h = handler as (e: PlatformEvent) => void | Promise<void>;
    set.add(h);
    return () => set.delete(h);
  }

  protected deliver(event: PlatformEvent): void {
    for (const h of this.#handlers.get(event.kind) ?? []) {
      try {
        const r = h(event);
        if (r instanceof Promise) r.catch(this.onError);
      } catch (e) {
        this.onError(e);
      }
    }
  }
}

/**
 * Event bus shared by every process on one database: events are rows in `cluster_event`, polled
 * by each node. Works on both dialects and across a CLI and a running server alike.
 */
export class DbEventBus extends LocalEventBus {
  readonly #db: Kysely<Database>;
  readonly #clock: Clock;
  readonly #origin = newId('node');
  readonly #pollMs: number;
  #watermark = 0;
  /** ids above the watermark already seen (ids can commit out of order on PostgreSQL). */
  readonly #seen = new Map<number, number>();
  #timer: NodeJS.Timeout | undefined;
  #polling = false;

  constructor(opts: { db: Kysely<Database>; clock?: Clock; pollMs?: number }) {
    super();
    this.#db = opts.db;
    this.#clock = opts.clock ?? systemClock;
    this.#pollMs = opts.pollMs ?? 200;
  }

  get origin(): string {
    return this.#origin;
  }

  override async publish(event: PlatformEvent): Promise<void> {
    await this.#db.insertInto('cluster_event').values({ at: this.#clock.nowMs(), kind: event.kind, payload: JSON.stringify(event), origin: this.#origin }).execute();
    this.deliver(event);
  }

  /** Starts delivering events published by other processes from now on. */
  async start(): Promise<void> {
    const row = await this.#db.selectFrom('cluster_event').select((eb) => eb.fn.max('id').as('max')).executeTakeFirst();
    this.#watermark = Number(row?.max ?? 0);
    this.#timer = setInterval(() => void this.poll(), this.#pollMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One poll; exposed so tests can drive it. */
  async poll(): Promise<void> {
    if (this.#polling) return;
    this.#polling = true;
    try {
      const rows = await this.#db.selectFrom('cluster_event').selectAll().where('id', '>', this.#watermark).orderBy('id').limit(1000).execute();
      const now = this.#clock.nowMs();
      for (const r of rows) {
        if (this.#seen.has(r.id)) continue;
        this.#seen.set(r.id, now);
        if (r.origin !== this.#origin) this.deliver(JSON.parse(r.payload) as PlatformEvent);
      }
      // Advance over contiguous ids; a gap older than 5 s is a rolled-back insert, not a late one.
      let w = this.#watermark;
      for (;;) {
        const next = w + 1;
        if (this.#seen.has(next)) {
          this.#seen.delete(next);
          w = next;
          continue;
        }
        const higher = [...this.#seen.entries()].filter(([id]) => id > next);
        if (higher.length > 0 && higher.every(([, t]) => now - t > 5000)) {
          w = next;
          continue;
        }
        break;
      }
      this.#watermark = w;
    } catch (e) {
      this.onError(e);
    } finally {
      this.#polling = false;
    }
  }
}
