import { type Clock, systemClock } from '@medtrust/core';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/index.ts';

export interface Job {
  readonly name: string;
  readonly intervalMs: number;
  run(): Promise<void>;
}

/**
 * Runs scheduled jobs once per cluster: before a run a node takes the job's lease row
 * (an atomic conditional update), so of several nodes on one database only one runs it.
 */
export class JobRunner {
  readonly #db: Kysely<Database>;
  readonly #clock: Clock;
  readonly #holder: string;
  readonly #logger: Logger;
  readonly #jobs: Job[] = [];
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #running = new Set<string>();
  readonly #inFlight = new Set<Promise<boolean>>();
  #stopped = false;

  constructor(opts: { db: Kysely<Database>; clock?: Clock; holder: string; logger: Logger }) {
    this.#db = opts.db;
    this.#clock = opts.clock ?? systemClock;
    this.#holder = opts.holder;
    this.#logger = opts.logger;
  }

  add(job: Job): void {
    this.#jobs.push(job);
  }

  start(): void {
    this.#stopped = false;
    for (const job of this.#jobs) {
      const t = setInterval(() => {
        const run = this.runOnce(job.name);
        this.#inFlight.add(run);
        void run.finally(() => this.#inFlight.delete(run));
      }, job.intervalMs);
      t.unref();
      this.#timers.push(t);
    }
  }

  /** Stops the timers and waits for runs in flight, so nothing touches the database after. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#timers) clearInterval(t);
    this.#timers.length = 0;
    await Promise.allSettled([...this.#inFlight]);
  }

  /** Runs a job now if this node wins its lease; returns whether it ran. */
  async runOnce(name: string): Promise<boolean> {
    const job = this.#jobs.find((j) => j.name === name);
    if (!job || this.#running.has(name) || this.#stopped) return false;
    this.#running.add(name);
    try {
      // Inside the try: a failed lease query (database restarting or closed) is logged, not thrown.
      if (!(await this.#acquire(job))) return false;
      await job.run();
      await this.#db.updateTable('job_lease').set({ last_run_at: this.#clock.nowMs() }).where('name', '=', name).execute();
      return true;
    } catch (e) {
      this.#logger.error({ err: e, job: name }, 'scheduled job failed');
      return false;
    } finally {
      this.#running.delete(name);
    }
  }

  async #acquire(job: Job): Promise<boolean> {
    const now = this.#clock.nowMs();
    // The lease covers one interval; the node that ran last keeps it until it expires.
    const until = now + Math.max(job.intervalMs - 50, 1);
    await this.#db.insertInto('job_lease').values({ name: job.name, holder: '', lease_until: 0, last_run_at: null }).onConflict((oc) => oc.column('name').doNothing()).execute();
    const r = await this.#db.updateTable('job_lease').set({ holder: this.#holder, lease_until: until })
      .where('name', '=', job.name).where('lease_until', '<=', now).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }
}
