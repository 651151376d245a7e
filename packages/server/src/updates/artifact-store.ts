import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { UpdateError } from './errors.ts';

/** An artifact's name in a store: the hex SHA-256 of its bytes. */
export const SHA256_RE = /^[0-9a-f]{64}$/;

/** What the store computed while it streamed an artifact in. */
export interface StoredArtifact {
  readonly sha256: string;
  readonly sha512: string;
  readonly length: number;
}

/**
 * Where firmware artifacts and SBOMs live, addressed by the hex SHA-256 of their bytes. The file
 * store is the default; `S3ArtifactStore` keeps them in an S3-compatible bucket.
 */
export interface ArtifactStore {
  /** Streams `source` in, hashing as it goes; ARTIFACT_TOO_LARGE past `maxBytes` (nothing kept). */
  put(source: Readable | Buffer, maxBytes: number): Promise<StoredArtifact>;
  /** A read stream of the artifact, or undefined when absent. */
  open(sha256: string): Promise<Readable | undefined>;
  has(sha256: string): Promise<boolean>;
}

/**
 * Writes `source` to the new file `tmpFile` (mode 0600) while hashing and metering it, the first
 * step of every store's `put`: ARTIFACT_TOO_LARGE as soon as it passes `maxBytes`, ARTIFACT_EMPTY
 * for no bytes (the caller removes `tmpFile` either way). `md5` adds the base64 MD5 an S3 PUT
 * sends as Content-MD5.
 */
export async function spoolArtifact(source: Readable | Buffer, maxBytes: number, tmpFile: string, opts: { md5?: boolean } = {}): Promise<StoredArtifact & { readonly md5Base64?: string }> {
  const h256 = createHash('sha256');
  const h512 = createHash('sha512');
  const md5 = opts.md5 ? createHash('md5') : undefined;
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
      md5?.update(chunk);
      cb(null, chunk);
    },
  });
  await pipeline(Buffer.isBuffer(source) ? Readable.from([source]) : source, meter, createWriteStream(tmpFile, { mode: 0o600 }));
  if (length === 0) throw new UpdateError('ARTIFACT_EMPTY', 'artifact is empty');
  return { sha256: h256.digest('hex'), sha512: h512.digest('hex'), length, ...(md5 ? { md5Base64: md5.digest('base64') } : {}) };
}
