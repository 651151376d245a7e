import { createHash } from 'node:crypto';
import { type Clock, systemClock } from '@medtrust/core';
import type { TufDocumentStore } from './tuf-document-store.ts';

const VERSIONED_RE = /^([1-9][0-9]{0,15})\.([A-Za-z0-9._-]{1,64})\.json$/;

/**
 * Serves metadata files by their TUF names: `root.json`, `timestamp.json` and the consistent
 * snapshot names `N.root.json`, `N.snapshot.json`, `N.targets.json`, `N.<model>.json`.
 * timestamp.json is the hot path of every update check: its bytes are cached for `cacheMs`
 * (other nodes' changes show within that time; this node's changes call `invalidate`).
 * Versioned files never change once written, so they are cached without expiry (bounded).
 */
export class TufMetadataReader {
  readonly #docs: TufDocumentStore;
  readonly #clock: Clock;
  readonly #cacheMs: number;
  #timestamp: { bytes: Buffer; atMs: number } | undefined;
  readonly #versioned = new Map<string, Buffer>();
  /** The reader hands out the same Buffer until the file changes, so each ETag is hashed once. */
  readonly #etags = new WeakMap<Buffer, string>();

  constructor(opts: { docs: TufDocumentStore; clock?: Clock; cacheMs?: number }) {
    this.#docs = opts.docs;
    this.#clock = opts.clock ?? systemClock;
    this.#cacheMs = opts.cacheMs ?? 1000;
  }

  invalidate(): void {
    this.#timestamp = undefined;
  }

  /** A strong ETag for bytes this reader returned. */
  etag(bytes: Buffer): string {
    let e = this.#etags.get(bytes);
    if (!e) this.#etags.set(bytes, (e = `"${createHash('sha256').update(bytes).digest('base64url')}"`));
    return e;
  }

  /** timestamp.json while the cached copy is fresh, without a database round trip (the fast path). */
  freshTimestamp(): Buffer | undefined {
    const c = this.#timestamp;
    return c && this.#clock.nowMs() - c.atMs < this.#cacheMs ? c.bytes : undefined;
  }

  /** The bytes of a metadata file, or undefined when there is no such file. */
  async read(fileName: string): Promise<Buffer | undefined> {
    if (fileName === 'timestamp.json') {
      const c = this.#timestamp;
      if (c && this.#clock.nowMs() - c.atMs < this.#cacheMs) return c.bytes;
      const d = await this.#docs.latest(this.#docs.db, 'timestamp');
      if (!d) return undefined;
      this.#timestamp = { bytes: Buffer.from(d.body, 'utf8'), atMs: this.#clock.nowMs() };
      return this.#timestamp.bytes;
    }
    if (fileName === 'root.json') {
      const d = await this.#docs.latest(this.#docs.db, 'root');
      return d ? Buffer.from(d.body, 'utf8') : undefined;
    }
    const m = VERSIONED_RE.exec(fileName);
    // TUF 1.0 §5.3: timestamp.json is never versioned; the others are only fetched by version.
    if (!m || m[2] === 'timestamp') return undefined;
    const cached = this.#versioned.get(fileName);
    if (cached) return cached;
    const d = await this.#docs.get(this.#docs.db, m[2]!, Number(m[1]));
    if (!d) return undefined;
    const bytes = Buffer.from(d.body, 'utf8');
    if (this.#versioned.size >= 512) this.#versioned.delete(this.#versioned.keys().next().value!);
    this.#versioned.set(fileName, bytes);
    return bytes;
  }
}
