import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ArtifactStore, StoredArtifact } from '../artifact-store.ts';
import { UpdateError } from '../errors.ts';

const SHA256_RE = /^[0-9a-f]{64}$/;

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
    const h256 = createHash('sha256');
    const h512 = createHash('sha512');
    let length = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        length += chunk.length;
        if (length > maxBytes) {
          cb(new UpdateError('ARTIFACT_TOO_LARGE', `artifact exceeds ${maxBytes} bytes`, { details: { maxBytes } }));
          return;
        }
        h256.update(chunk);
        h512.update(chunk);
        cb(null, chunk);
      },
    });
    try {
      await pipeline(Buffer.isBuffer(source) ? Readable.from([source]) : source, meter, createWriteStream(tmp, { mode: 0o600 }));
      if (length === 0) throw new UpdateError('ARTIFACT_EMPTY', 'artifact is empty');
      const sha256 = h256.digest('hex');
      const dest = this.pathOf(sha256);
      mkdirSync(join(this.#root, 'sha256', sha256.slice(0, 2)), { recursive: true, mode: 0o700 });
      // Same bytes, same name: an existing file is already this artifact.
      await rename(tmp, dest);
      return { sha256, sha512: h512.digest('hex'), length };
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
