import { randomBytes } from 'node:crypto';
import { createReadStream, mkdirSync } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { type ArtifactStore, SHA256_RE, spoolArtifact, type StoredArtifact } from '../artifact-store.ts';
import { UpdateError } from '../errors.ts';

/**
 * Artifacts as files under `<dataDir>/artifacts/sha256/<2 hex>/<64 hex>`. Writes go to a temp
 * file first and are renamed into place, so a reader never sees a partial artifact.
 */
export class FileArtifactStore implements ArtifactStore {
  readonly #root: string;

  constructor(opts: { dir: string }) {
    this.#root = opts.dir;
    mkdirSync(join(this.#root, 'tmp'), { recursive: true, mode: 0o700 });
    mkdirSync(join(this.#root, 'sha256'), { recursive: true, mode: 0o700 });
  }

  /** Path of an artifact's file (it may not exist). */
  pathOf(sha256: string): string {
    if (!SHA256_RE.test(sha256)) throw new UpdateError('TUF_METADATA_NOT_FOUND', 'not a sha256');
    return join(this.#root, 'sha256', sha256.slice(0, 2), sha256);
  }

  async put(source: Readable | Buffer, maxBytes: number): Promise<StoredArtifact> {
    const tmp = join(this.#root, 'tmp', randomBytes(12).toString('hex'));
    try {
      const stored = await spoolArtifact(source, maxBytes, tmp);
      mkdirSync(join(this.#root, 'sha256', stored.sha256.slice(0, 2)), { recursive: true, mode: 0o700 });
      // Same bytes, same name: an existing file is already this artifact.
      await rename(tmp, this.pathOf(stored.sha256));
      return stored;
    } finally {
      await rm(tmp, { force: true });
    }
  }

  async open(sha256: string): Promise<Readable | undefined> {
    if (!(await this.has(sha256))) return undefined;
    return createReadStream(this.pathOf(sha256));
  }

  async has(sha256: string): Promise<boolean> {
    if (!SHA256_RE.test(sha256)) return false;
    try {
      return (await stat(this.pathOf(sha256))).isFile();
    } catch {
      return false;
    }
  }
}
