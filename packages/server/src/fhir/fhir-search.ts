import { vitalKindOfCode, type VitalKind } from './vital-codes.ts';

/** A FHIR `date` search value: prefix + instant; refused when malformed. */
export function parseDateParams(values: readonly string[]): { fromMs: number; toMs: number } | string {
  let fromMs = 0;
  let toMs = 8_640_000_000_000_000;
  for (const raw of values) {
    const m = /^(eq|ge|gt|le|lt)?(\d{4}(-\d{2}(-\d{2}(T[0-9:.]+(Z|[+-]\d{2}:\d{2})?)?)?)?)$/.exec(raw);
    if (!m) return `date "${raw}" is not a FHIR date search value`;
    const prefix = m[1] ?? 'eq';
    const text = m[2]!;
    const start = Date.parse(text.length === 4 ? `${text}-01-01` : text.length === 7 ? `${text}-01` : text);
    if (Number.isNaN(start)) return `date "${raw}" is not a valid date`;
    // The end of the value's precision: a day covers the whole day (FHIR search §3.1.1.4.3).
    const end = text.length === 4 ? Date.UTC(Number(text) + 1, 0, 1) : text.length === 7 ? Date.UTC(Number(text.slice(0, 4)), Number(text.slice(5, 7)), 1) : text.length === 10 ? start + 86_400_000 : start + 1;
    switch (prefix) {
      case 'eq': fromMs = Math.max(fromMs, start); toMs = Math.min(toMs, end); break;
      case 'ge': fromMs = Math.max(fromMs, start); break;
      case 'gt': fromMs = Math.max(fromMs, end); break;
      case 'le': toMs = Math.min(toMs, end); break;
      case 'lt': toMs = Math.min(toMs, start); break;
    }
  }
  return { fromMs, toMs };
}

/** `code` search values (comma = OR; `system|code` or bare code) to the vital kinds they name. */
export function parseCodeParams(values: readonly string[]): Set<VitalKind> | string | undefined {
  if (values.length === 0) return undefined;
  const kinds = new Set<VitalKind>();
  for (const v of values.flatMap((x) => x.split(','))) {
    const k = vitalKindOfCode(v.trim());
    if (!k) return `code "${v}" is not a vital this server holds`;
    kinds.add(k);
  }
  return kinds;
}

/** Opaque paging cursor: which binding, and the last (device time, seq) served. */
export interface Cursor {
  readonly b: number;
  readonly ts: number;
  readonly seq: number;
  readonly skip: number;
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

export function decodeCursor(s: string | undefined): Cursor | undefined | 'bad' {
  if (s === undefined) return undefined;
  try {
    const c = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as Cursor;
    if (![c.b, c.ts, c.seq, c.skip].every((n) => Number.isInteger(n) && n >= 0)) return 'bad';
    return c;
  } catch {
    return 'bad';
  }
}
