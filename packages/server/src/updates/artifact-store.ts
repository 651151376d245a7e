import type { Readable } from 'node:stream';

/** What the store computed while it streamed an artifact in. */
export interface StoredArtifact {
  readonly sha256: string;
  readonly sha512: string;
  readonly length: number;
}

/**
 * Where firmware artifacts and SBOMs live, addressed by the hex SHA-256 of their bytes. The file
 * store is the default; an S3-compatible store would implement the same interface.
 */
export interface ArtifactStore {
  /** Streams `source` in, hashing as it goes; ARTIFACT_TOO_LARGE past `maxBytes` (nothing kept). */
  put(source: Readable | Buffer, maxBytes: number): Promise<StoredArtifact>;
  /** A read stream of the artifact, or undefined when absent. */
  open(sha256: string): Promise<Readable | undefined>;
  has(sha256: string): Promise<boolean>;
}
