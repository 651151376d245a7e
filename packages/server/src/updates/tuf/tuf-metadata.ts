import { createHash } from 'node:crypto';
import { stableJson } from '@medtrust/core';
import type { TufPublicKey, TufSignature } from './tuf-key.ts';

/** The specification version written into every document. */
export const TUF_SPEC_VERSION = '1.0.31';

/** The four top-level roles; delegated roles are named after device models. */
export const TOP_LEVEL_ROLES = ['root', 'targets', 'snapshot', 'timestamp'] as const;

export interface RoleKeys {
  readonly keyids: readonly string[];
  readonly threshold: number;
}

export interface MetaFileInfo {
  readonly version: number;
  readonly length?: number;
  readonly hashes?: Readonly<Record<string, string>>;
}

export interface TargetFileInfo {
  readonly length: number;
  readonly hashes: Readonly<Record<string, string>>;
  readonly custom?: Readonly<Record<string, unknown>>;
}

export interface DelegatedRoleSpec {
  readonly name: string;
  readonly keyids: readonly string[];
  readonly threshold: number;
  readonly terminating: boolean;
  readonly paths: readonly string[];
}

interface Common {
  readonly spec_version: string;
  readonly version: number;
  readonly expires: string;
}

export type RootSigned = Common & {
  readonly _type: 'root';
  readonly consistent_snapshot: boolean;
  readonly keys: Readonly<Record<string, TufPublicKey>>;
  readonly roles: Readonly<Record<(typeof TOP_LEVEL_ROLES)[number], RoleKeys>>;
};
export type TimestampSigned = Common & { readonly _type: 'timestamp'; readonly meta: { readonly 'snapshot.json': MetaFileInfo } };
export type SnapshotSigned = Common & { readonly _type: 'snapshot'; readonly meta: Readonly<Record<string, MetaFileInfo>> };
export type TargetsSigned = Common & {
  readonly _type: 'targets';
  readonly targets: Readonly<Record<string, TargetFileInfo>>;
  readonly delegations?: { readonly keys: Readonly<Record<string, TufPublicKey>>; readonly roles: readonly DelegatedRoleSpec[] };
};
export type AnySigned = RootSigned | TimestampSigned | SnapshotSigned | TargetsSigned;

export interface SignedDocument<S extends AnySigned = AnySigned> {
  readonly signed: S;
  readonly signatures: readonly TufSignature[];
}

/** TUF 1.0 §4.2: expiry is ISO 8601 UTC in whole seconds, e.g. `2026-12-01T00:00:00Z`. */
export function tufExpiry(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * The bytes served for a document: sorted-key standard JSON. Not canonical JSON: that leaves
 * newlines raw (PEM keys), which JSON parsers refuse; signatures still cover the canonical form.
 */
export function documentBytes(doc: SignedDocument): string {
  return stableJson(doc);
}

/** The METAFILES entry (version, length and SHA-256) for served bytes. */
export function metaFileInfo(version: number, bytes: string): MetaFileInfo {
  const buf = Buffer.from(bytes, 'utf8');
  return { version, length: buf.length, hashes: { sha256: createHash('sha256').update(buf).digest('hex') } };
}
