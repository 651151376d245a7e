/**
 * Minimal strict DER reader and writer for the OCSP hot path. Written by hand because every
 * OCSP request is parsed and every nonce response encoded per request: asn1js/pkijs build an
 * object tree and schema-compare it, which costs more than the ECDSA signature itself (see
 * bench/ocsp.bench.ts). Only definite, minimal lengths are accepted (X.690 §10.1).
 */

export interface Tlv {
  readonly tag: number;
  /** Offset of the first content byte. */
  readonly start: number;
  /** Offset just past the content. */
  readonly end: number;
  /** Offset of the tag byte (so `buf.subarray(header, end)` is the whole encoding). */
  readonly header: number;
}

export class DerError extends Error {}

/** Reads one TLV at `offset`, which must lie within `limit`. Multi-byte tags are refused. */
export function readTlv(buf: Buffer, offset: number, limit: number = buf.length): Tlv {
  if (offset + 2 > limit) throw new DerError('truncated header');
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte tag');
  let len = buf[offset + 1]!;
  let pos = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    // X.690 §8.1.3.6: indefinite length (0x80) is not DER; lengths over 4 bytes are absurd here.
    if (n === 0 || n > 4) throw new DerError('bad length');
    if (pos + n > limit) throw new DerError('truncated length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[pos + i]!;
    // X.690 §10.1: the shortest length encoding must be used.
    if (len < 0x80 || buf[pos] === 0) throw new DerError('non-minimal length');
    pos += n;
  }
  const end = pos + len;
  if (end > limit) throw new DerError('truncated content');
  return { tag, start: pos, end, header: offset };
}

/** Reads a TLV and checks its tag. */
export function expectTlv(buf: Buffer, offset: number, limit: number, tag: number): Tlv {
  const t = readTlv(buf, offset, limit);
  if (t.tag !== tag) throw new DerError(`expected tag 0x${tag.toString(16)}, got 0x${t.tag.toString(16)}`);
  return t;
}

/** The children of a constructed TLV, in order. */
export function children(buf: Buffer, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  let p = parent.start;
  while (p < parent.end) {
    const t = readTlv(buf, p, parent.end);
    out.push(t);
    p = t.end;
  }
  return out;
}

export function contentOf(buf: Buffer, t: Tlv): Buffer {
  return buf.subarray(t.start, t.end);
}

export function wholeOf(buf: Buffer, t: Tlv): Buffer {
  return buf.subarray(t.header, t.end);
}

function lengthBytes(len: number): Buffer {
  if (len < 0x80) return Buffer.from([len]);
  if (len < 0x100) return Buffer.from([0x81, len]);
  if (len < 0x10000) return Buffer.from([0x82, len >> 8, len & 0xff]);
  return Buffer.from([0x83, (len >> 16) & 0xff, (len >> 8) & 0xff, len & 0xff]);
}

/** Encodes a TLV from already-encoded content parts. */
export function tlv(tag: number, ...parts: readonly Buffer[]): Buffer {
  let len = 0;
  for (const p of parts) len += p.length;
  const l = lengthBytes(len);
  const out = Buffer.allocUnsafe(1 + l.length + len);
  out[0] = tag;
  l.copy(out, 1);
  let pos = 1 + l.length;
  for (const p of parts) {
    p.copy(out, pos);
    pos += p.length;
  }
  return out;
}

export const seq = (...parts: readonly Buffer[]): Buffer => tlv(0x30, ...parts);
export const octetString = (b: Buffer): Buffer => tlv(0x04, b);
export const bitString = (b: Buffer): Buffer => tlv(0x03, Buffer.from([0]), b);
export const enumerated = (n: number): Buffer => tlv(0x0a, Buffer.from([n]));

/** OBJECT IDENTIFIER from dotted form (X.690 §8.19). */
export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const bytes: number[] = [arcs[0]! * 40 + arcs[1]!];
  for (const arc of arcs.slice(2)) {
    const stack = [arc & 0x7f];
    let v = Math.floor(arc / 128);
    while (v > 0) {
      stack.unshift((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    bytes.push(...stack);
  }
  return tlv(0x06, Buffer.from(bytes));
}

/** GeneralizedTime `YYYYMMDDHHMMSSZ`, whole seconds (RFC 5280 §4.1.2.5.2). */
export function generalizedTime(ms: number): Buffer {
  const d = new Date(ms);
  const p2 = (n: number): string => String(n).padStart(2, '0');
  const s = `${String(d.getUTCFullYear()).padStart(4, '0')}${p2(d.getUTCMonth() + 1)}${p2(d.getUTCDate())}${p2(d.getUTCHours())}${p2(d.getUTCMinutes())}${p2(d.getUTCSeconds())}Z`;
  return tlv(0x18, Buffer.from(s, 'latin1'));
}
