import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';

/** A message waiting for its PUBACK. */
export interface QueuedMessage {
  readonly seq: number;
  readonly topic: string;
  readonly payload: string;
}

type Record = { readonly k: 'm'; readonly s: number; readonly t: string; readonly p: string } | { readonly k: 'a'; readonly s: number };

/**
 * On-disk offline queue: an append-only journal of JSON lines (`m` = message, `a` = acknowledged),
 * fsynced per append so that a reading survives a power cut, replayed in order on open, and
 * compacted (rewrite + rename) once most of it is acknowledged. A torn last line (crash during
 * a write) is ignored: it was never acknowledged to anyone.
 */
export class OfflineQueue {
  readonly #file: string;
  readonly #fsync: boolean;
  readonly #pending = new Map<number, QueuedMessage>();
  #fd: number;
  #nextSeq = 1;
  #acked = 0;

  constructor(opts: { file: string; fsync?: boolean }) {
    this.#file = opts.file;
    this.#fsync = opts.fsync ?? true;
    if (existsSync(this.#file)) this.#replay(readFileSync(this.#file, 'utf8'));
    this.#fd = openSync(this.#file, 'a', 0o600);
  }

  /** Messages not yet acknowledged, oldest first. */
  pending(): QueuedMessage[] {
    return [...this.#pending.values()];
  }

  get size(): number {
    return this.#pending.size;
  }

  enqueue(topic: string, payload: string): QueuedMessage {
    const m: QueuedMessage = { seq: this.#nextSeq++, topic, payload };
    this.#append({ k: 'm', s: m.seq, t: topic, p: payload });
    this.#pending.set(m.seq, m);
    return m;
  }

  ack(seq: number): void {
    if (!this.#pending.delete(seq)) return;
    this.#append({ k: 'a', s: seq });
    if (++this.#acked > 1000 && this.#acked > 4 * this.#pending.size) this.#compact();
  }

  close(): void {
    closeSync(this.#fd);
  }

  #append(r: Record): void {
    writeSync(this.#fd, `${JSON.stringify(r)}\n`);
    if (this.#fsync) fsyncSync(this.#fd);
  }

  #replay(text: string): void {
    for (const line of text.split('\n')) {
      if (line === '') continue;
      let r: Record;
      try {
        r = JSON.parse(line) as Record;
      } catch {
        continue; // torn final line
      }
      if (r.k === 'm') this.#pending.set(r.s, { seq: r.s, topic: r.t, payload: r.p });
      else this.#pending.delete(r.s);
      this.#nextSeq = Math.max(this.#nextSeq, r.s + 1);
    }
  }

  #compact(): void {
    const tmp = `${this.#file}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    for (const m of this.#pending.values()) writeSync(fd, `${JSON.stringify({ k: 'm', s: m.seq, t: m.topic, p: m.payload })}\n`);
    fsyncSync(fd);
    closeSync(fd);
    closeSync(this.#fd);
    renameSync(tmp, this.#file);
    this.#fd = openSync(this.#file, 'a', 0o600);
    this.#acked = 0;
  }
}
