import type { Advisory } from '../match/advisory.ts';

/** One record of a feed: a normalised advisory, or the reason it was refused. */
export type FeedRecordResult = { readonly ok: true; readonly advisory: Advisory } | { readonly ok: false; readonly reason: string };

export const reject = (reason: string): FeedRecordResult => ({ ok: false, reason });

export function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** RFC 3339 or NVD's zone-less timestamps (which NVD documents as UTC). */
export function parseTimeMs(x: unknown): number | undefined {
  if (typeof x !== 'string' || !/^\d{4}-\d{2}-\d{2}/.test(x)) return undefined;
  const s = /[zZ]|[+-]\d{2}:?\d{2}$/.test(x) || x.length === 10 ? x : `${x}Z`;
  const ms = Date.parse(s);
  return Number.isFinite(ms) ? ms : undefined;
}
