// A strict, bounds-checked DER reader (ITU-T X.690 §10) for the few structures the platform
// parses on hot paths (PKCS#10 CSRs). It refuses indefinite and non-minimal lengths, and never
// reads past its input: every failure is a DerDecodeError, never a RangeError or a crash.

/** Thrown for any input that is not well-formed DER; callers map it to their own error code. */
export class DerDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DerDecodeError';
  }
}

/** One TLV inside a buffer: `start` is the tag offset, content is [contentStart, end). */
export interface DerElement {
  readonly tag: number;
  readonly start: number;
  readonly contentStart: number;
  readonly end: number;
}

/** Reads the TLV at `offset`, which must end at or before `limit`. Only single-byte tags. */
export function readElement(buf: Uint8Array, offset: number, limit: number = buf.length): DerElement {
  if (offset + 2 > limit) throw new DerDecodeError('truncated header');
  const tag = buf[offset] as number;
  if ((tag & 0x1f) === 0x1f) throw new DerDecodeError('multi-byte tags are not supported');
  const first = buf[offset + 1] as number;
  let length: number;
  let contentStart: number;
  if (first < 0x80) {
    length = first;
    contentStart = offset + 2;
  } else {
    const n = first & 0x7f;
    // X.690 §10.1: definite form only; at most 4 length octets is plenty for our 16 KiB limits.
    if (n === 0) throw new DerDecodeError('indefinite length');
    if (n > 4) throw new DerDecodeError('length too long');
    if (offset + 2 + n > limit) throw new DerDecodeError('truncated length');
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + (buf[offset + 2 + i] as number);
    if (buf[offset + 2] === 0 || length < 0x80) throw new DerDecodeError('non-minimal length');
    contentStart = offset + 2 + n;
  }
  const end = contentStart + length;
  if (end > limit) throw new DerDecodeError('truncated content');
  return { tag, start: offset, contentStart, end };
}

/** Reads the TLV at `offset` and checks its tag. */
export function expectElement(buf: Uint8Array, offset: number, tag: number, limit: number = buf.length): DerElement {
  const e = readElement(buf, offset, limit);
  if (e.tag !== tag) throw new DerDecodeError(`expected tag 0x${tag.toString(16)}, got 0x${e.tag.toString(16)}`);
  return e;
}

/** The child elements of a constructed element, which must exactly fill it. */
export function children(buf: Uint8Array, parent: DerElement): DerElement[] {
  if ((parent.tag & 0x20) === 0) throw new DerDecodeError('not a constructed element');
  const out: DerElement[] = [];
  let p = parent.contentStart;
  while (p < parent.end) {
    const e = readElement(buf, p, parent.end);
    out.push(e);
    p = e.end;
  }
  return out;
}

/** Decodes an OBJECT IDENTIFIER's content into dotted form. */
export function decodeOid(buf: Uint8Array, e: DerElement): string {
  if (e.tag !== 0x06) throw new DerDecodeError('not an OID');
  if (e.end === e.contentStart) throw new DerDecodeError('empty OID');
  const arcs: Array<number | bigint> = [];
  // Numbers while an arc fits in 2^53 (all but UUID arcs); BigInt beyond. This runs per CSR.
  let v = 0;
  let big: bigint | undefined;
  let started = false;
  for (let i = e.contentStart; i < e.end; i++) {
    const b = buf[i] as number;
    if (!started && b === 0x80) throw new DerDecodeError('non-minimal OID arc');
    started = true;
    if (big === undefined && v >= 2 ** 45) big = BigInt(v);
    if (big !== undefined) {
      big = (big << 7n) | BigInt(b & 0x7f);
      // 2.25 UUID arcs need 128 bits; refuse anything far beyond.
      if (big > 1n << 160n) throw new DerDecodeError('OID arc too large');
    } else {
      v = v * 128 + (b & 0x7f);
    }
    if ((b & 0x80) === 0) {
      arcs.push(big ?? v);
      v = 0;
      big = undefined;
      started = false;
    }
  }
  if (started) throw new DerDecodeError('truncated OID');
  const first = arcs[0] as number | bigint;
  const head = typeof first === 'bigint' ? ['2', (first - 80n).toString()] : first < 40 ? ['0', String(first)] : first < 80 ? ['1', String(first - 40)] : ['2', String(first - 80)];
  return [...head, ...arcs.slice(1).map(String)].join('.');
}

/** The content octets of a BIT STRING with no unused bits. */
export function bitStringBytes(buf: Uint8Array, e: DerElement): Buffer {
  if (e.tag !== 0x03) throw new DerDecodeError('not a BIT STRING');
  if (e.end === e.contentStart || buf[e.contentStart] !== 0) throw new DerDecodeError('BIT STRING with unused bits');
  return Buffer.from(buf.buffer, buf.byteOffset + e.contentStart + 1, e.end - e.contentStart - 1);
}

/** A view of the whole TLV's bytes (no copy). */
export function elementBytes(buf: Uint8Array, e: DerElement): Buffer {
  return Buffer.from(buf.buffer, buf.byteOffset + e.start, e.end - e.start);
}

/** A view of the content octets (no copy). */
export function contentBytes(buf: Uint8Array, e: DerElement): Buffer {
  return Buffer.from(buf.buffer, buf.byteOffset + e.contentStart, e.end - e.contentStart);
}
