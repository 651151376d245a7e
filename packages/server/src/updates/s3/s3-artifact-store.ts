import { randomBytes } from 'node:crypto';
import { createReadStream, mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { ArtifactStoreConfig } from '../../config/index.ts';
import { type ArtifactStore, SHA256_RE, spoolArtifact, type StoredArtifact } from '../artifact-store.ts';
import { UpdateError } from '../errors.ts';
import { s3Failure } from './s3-failure.ts';

/** Where the bucket is and how to reach it (the `s3` artifact store settings), and where to spool uploads. */
export type S3ArtifactStoreOptions = Omit<Extract<ArtifactStoreConfig, { kind: 's3' }>, 'kind'> & {
  /** Local directory for spooling uploads (the data dir's `artifacts/tmp`). */
  readonly tmpDir: string;
  /** Per-request socket timeout; a dead endpoint fails within about this. */
  readonly requestTimeoutMs?: number;
};

/**
 * Artifacts as objects `<prefix>sha256/<2 hex>/<64 hex>` in an S3-compatible bucket.
 *
 * `put` spools the upload to a temp file in the data dir while hashing and metering it, then
 * sends one PutObject with Content-Length and Content-MD5 and deletes the file. Why not stream
 * straight into S3: the key is the SHA-256, known only after the last byte, and an over-limit
 * upload must leave nothing behind; a multipart upload to a provisional key would need a
 * server-side copy, an abort on every failure path and a lifecycle rule for leftovers, and
 * works differently across S3-compatible servers. A single PUT is atomic on every one of
 * them (a reader never sees a partial object) and Content-MD5 makes the server refuse bytes
 * that changed in transit. The cost is local disk for one artifact at a time, bounded by
 * `maxBytes`, and a single PUT caps objects at 5 GiB, far above firmware sizes.
 */
export class S3ArtifactStore implements ArtifactStore {
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;
  readonly #tmpDir: string;

  constructor(o: S3ArtifactStoreOptions) {
    this.#bucket = o.bucket;
    this.#prefix = o.prefix;
    this.#tmpDir = o.tmpDir;
    mkdirSync(o.tmpDir, { recursive: true, mode: 0o700 });
    this.#client = new S3Client({
      endpoint: o.endpoint,
      region: o.region,
      forcePathStyle: o.forcePathStyle,
      credentials: o.credentials ? { accessKeyId: o.credentials.accessKeyId, secretAccessKey: o.credentials.secretAccessKey } : undefined,
      // Newer SDKs add CRC32 checksums (and aws-chunked bodies) by default, which many
      // S3-compatible servers reject; integrity comes from Content-MD5 and our own SHA-256 instead.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 3,
      requestHandler: { connectionTimeout: 5_000, requestTimeout: o.requestTimeoutMs ?? 60_000 },
    });
  }

  /** The object key of an artifact (it may not exist). */
  keyOf(sha256: string): string {
    return `${this.#prefix}sha256/${sha256.slice(0, 2)}/${sha256}`;
  }

  async put(source: Readable | Buffer, maxBytes: number): Promise<StoredArtifact> {
    const tmp = join(this.#tmpDir, `s3-${randomBytes(12).toString('hex')}`);
    try {
      const { md5Base64, ...stored } = await spoolArtifact(source, maxBytes, tmp, { md5: true });
      const key = this.keyOf(stored.sha256);
      // Same bytes, same key: an existing object is already this artifact, so it is stored once.
      if (!(await this.#exists(key))) {
        try {
          await this.#client.send(new PutObjectCommand({
            Bucket: this.#bucket, Key: key, Body: createReadStream(tmp), ContentLength: stored.length,
            ContentMD5: md5Base64, ContentType: 'application/octet-stream',
          }));
        } catch (e) {
          throw s3Failure(e, 'PutObject', this.#bucket);
        }
      }
      return stored;
    } finally {
      await rm(tmp, { force: true });
    }
  }

  async open(sha256: string): Promise<Readable | undefined> {
    if (!SHA256_RE.test(sha256)) return undefined;
    try {
      const out = await this.#client.send(new GetObjectCommand({ Bucket: this.#bucket, Key: this.keyOf(sha256) }));
      // In Node the SDK's body is the response's IncomingMessage: a Readable, streamed as it arrives.
      if (!(out.Body instanceof Readable)) throw new UpdateError('ARTIFACT_STORE_UNAVAILABLE', 'the S3 client returned no stream body');
      return out.Body;
    } catch (e) {
      if (isNotFound(e)) return undefined;
      if (e instanceof UpdateError) throw e;
      throw s3Failure(e, 'GetObject', this.#bucket);
    }
  }

  async has(sha256: string): Promise<boolean> {
    if (!SHA256_RE.test(sha256)) return false;
    return this.#exists(this.keyOf(sha256));
  }

  /** Closes the client's connection pool. */
  close(): void {
    this.#client.destroy();
  }

  async #exists(key: string): Promise<boolean> {
    try {
      await this.#client.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: key }));
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw s3Failure(e, 'HeadObject', this.#bucket);
    }
  }
}

function isNotFound(e: unknown): boolean {
  // HEAD answers have no body, so a missing key is only "NotFound" with status 404 there.
  return e instanceof Error && (e.name === 'NoSuchKey' || e.name === 'NotFound');
}
