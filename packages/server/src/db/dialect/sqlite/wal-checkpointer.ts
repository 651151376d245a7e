import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

export interface WalCheckpointerOptions {
  /** How often the worker copies committed WAL frames into the database file. */
  readonly intervalMs?: number;
  readonly onError?: (message: string) => void;
}

// Plain JavaScript evaluated in the worker: no TypeScript loader is needed there.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 10000');
const passive = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
const tick = () => {
  try {
    passive.get();
  } catch (e) {
    parentPort.postMessage({ error: String((e && e.message) || e) });
  }
  setTimeout(tick, workerData.intervalMs);
};
tick();
`;

/**
 * WAL checkpoints mostly on a worker thread. SQLite's automatic checkpoint runs inside the COMMIT
 * that crosses 1,000 WAL pages, on the committing connection, copying those pages into the
 * database file and, with synchronous=NORMAL, fsyncing it: better-sqlite3 is synchronous, so that
 * stalled the whole event loop (TLS, MQTT, every acknowledgement) and telemetry commits took about
 * 1.7 times as long (bench/telemetry.bench.ts). This worker, with its own connection, checkpoints
 * passively (never blocking the writer) every `intervalMs`. The platform's connection keeps a
 * rarer automatic checkpoint (4,000 pages): by then the worker has copied nearly everything, so it
 * is short, and it is what lets the next commit start the WAL file over (a checkpoint on another
 * connection cannot, while commits keep coming). Durability is unchanged: commits are in the WAL.
 */
export class WalCheckpointer {
  readonly #worker: Worker;
  #stopped: Promise<void> | undefined;

  constructor(file: string, opts: WalCheckpointerOptions = {}) {
    const module = createRequire(import.meta.url).resolve('better-sqlite3');
    this.#worker = new Worker(WORKER, { eval: true, workerData: { file, module, intervalMs: opts.intervalMs ?? 50 } });
    this.#worker.on('message', (m: { error?: string }) => {
      if (m.error) opts.onError?.(m.error);
    });
    this.#worker.on('error', (e) => opts.onError?.(e.message));
    // A forgotten close must not keep the process alive.
    this.#worker.unref();
  }

  /**
   * Stops the worker. Termination waits for a running checkpoint (native code) to return, and
   * better-sqlite3 closes the worker's connection when the thread ends; a checkpoint cut short
   * would be safe anyway (SQLite resumes it from the WAL).
   */
  stop(): Promise<void> {
    this.#stopped ??= this.#worker.terminate().then(() => undefined);
    return this.#stopped;
  }
}
