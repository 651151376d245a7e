// A minimal DER writer (ITU-T X.690 §10). Written by hand because certificate issuance is a hot
// path: asn1js/pkijs build an object tree per certificate, which costs more than the signature.
// Every function returns the complete TLV as a Buffer; composition is by concatenation.

/** Universal and context tag bytes used by X.509. */
export const DerTag = Object.freeze({
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
});

/** The length octets: short form below 128, else the minimal long form (X.690 §10.1). */
export function derLength(length: number): Buffer {
  if (!Number.isSafeInteger(length) || length < 0) throw new RangeError('DER length out of range');
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** Writes tag and length octets at the start of `out`; returns the header size. */
function writeHeader(out: Buffer, tag: number, length: number): number {
  out[0] = tag;
  if (length < 0x80) {
    out[1] = length;
    return 2;
  }
  let n = 0;
  for (let v = length; v > 0; v = Math.floor(v / 256)) n++;
  out[1] = 0x80 | n;
  for (let i = 0, v = length; i < n; i++, v = Math.floor(v / 256)) out[1 + n - i] = v & 0xff;
  return 2 + n;
}

function headerSize(length: number): number {
  if (!Number.isSafeInteger(length) || length < 0) throw new RangeError('DER length out of range');
  return length < 0x80 ? 2 : length < 0x100 ? 3 : length < 0x10000 ? 4 : length < 0x1000000 ? 5 : 6;
}

/** One TLV from a tag byte and its content octets (one allocation: this runs per certificate). */
export function tlv(tag: number, content: Buffer | Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(headerSize(content.length) + content.length);
  out.set(content, writeHeader(out, tag, content.length));
  return out;
}

/** A constructed TLV around the concatenation of `items`, copied once. */
export function constructed(tag: number, items: readonly (Buffer | Uint8Array)[]): Buffer {
  let len = 0;
  for (const it of items) len += it.length;
  const out = Buffer.allocUnsafe(headerSize(len) + len);
  let p = writeHeader(out, tag, len);
  for (const it of items) {
    out.set(it, p);
    p += it.length;
  }
  return out;
}

export function sequence(...items: readonly (Buffer | Uint8Array)[]): Buffer {
  return constructed(DerTag.SEQUENCE, items);
}

/** SET OF with its elements sorted by their encodings, as DER requires (X.690 §11.6). */
export function setOf(...items: readonly Buffer[]): Buffer {
  return constructed(DerTag.SET, items.length < 2 ? items : [...items].sort((a, b) => Buffer.compare(a, b)));
}

/** INTEGER from a non-negative bigint/number, or from unsigned big-endian magnitude bytes. */
export function integer(value: bigint | number | Buffer): Buffer {
  let mag: Buffer;
  if (Buffer.isBuffer(value)) {
    let i = 0;
    while (i < value.length - 1 && value[i] === 0) i++;
    mag = value.length === 0 ? Buffer.from([0]) : value.subarray(i);
  } else {
    const v = BigInt(value);
    if (v < 0n) throw new RangeError('negative INTEGER not supported');
    let hex = v.toString(16);
    if (hex.length % 2 === 1) hex = `0${hex}`;
    mag = Buffer.from(hex, 'hex');
  }
  // A set high bit would read as negative: prefix a zero octet (X.690 §8.3.2).
  if ((mag[0] ?? 0) & 0x80) mag = Buffer.concat([Buffer.from([0]), mag]);
  return tlv(DerTag.INTEGER, mag);
}

export function boolean(value: boolean): Buffer {
  return Buffer.from([DerTag.BOOLEAN, 1, value ? 0xff : 0x00]);
}

export const NULL_DER: Buffer = Buffer.from([DerTag.NULL, 0]);

/** OBJECT IDENTIFIER from dotted form (X.690 §8.19). */
export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map((a) => {
    if (!/^\d+$/.test(a)) throw new RangeError(`bad OID ${dotted}`);
    return BigInt(a);
  });
  const [a0, a1, ...rest] = arcs;
  if (a0 === undefined || a1 === undefined || a0 > 2n || (a0 < 2n && a1 > 39n)) throw new RangeError(`bad OID ${dotted}`);
  const out: number[] = [];
  for (const arc of [a0 * 40n + a1, ...rest]) {
    const groups: number[] = [Number(arc & 0x7fn)];
    for (let v = arc >> 7n; v > 0n; v >>= 7n) groups.unshift(Number(v & 0x7fn) | 0x80);
    out.push(...groups);
  }
  return tlv(DerTag.OID, Buffer.from(out));
}

/** BIT STRING of whole octets (unused bits 0), as for keys and signatures. */
export function bitString(bytes: Buffer | Uint8Array, unusedBits = 0): Buffer {
  return constructed(DerTag.BIT_STRING, [Buffer.from([unusedBits]), bytes]);
}

/**
 * Named-bit BIT STRING (KeyUsage): bit 0 is the most significant bit of the first octet;
 * trailing zero bits are dropped as DER requires (X.690 §11.2.2).
 */
export function namedBits(bits: readonly number[]): Buffer {
  if (bits.length === 0) return bitString(Buffer.alloc(0));
  const max = Math.max(...bits);
  const bytes = Buffer.alloc((max >> 3) + 1);
  for (const b of bits) bytes[b >> 3] = (bytes[b >> 3] ?? 0) | (0x80 >> (b & 7));
  return bitString(bytes, 7 - (max & 7));
}

export function octetString(bytes: Buffer | Uint8Array): Buffer {
  return tlv(DerTag.OCTET_STRING, bytes);
}

export function utf8String(s: string): Buffer {
  return tlv(DerTag.UTF8_STRING, Buffer.from(s, 'utf8'));
}

const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

/** PrintableString (X.680 §41.4); RangeError for characters outside its set. */
export function printableString(s: string): Buffer {
  if (!PRINTABLE.test(s)) throw new RangeError('not a PrintableString');
  return tlv(DerTag.PRINTABLE_STRING, Buffer.from(s, 'latin1'));
}

export function isPrintableString(s: string): boolean {
  return PRINTABLE.test(s);
}

export function ia5String(s: string): Buffer {
  // eslint-disable-next-line no-control-regex
  if (!/^[\x00-\x7f]*$/.test(s)) throw new RangeError('not an IA5String');
  return tlv(DerTag.IA5_STRING, Buffer.from(s, 'latin1'));
}

/** [n] EXPLICIT: a constructed context tag around one complete TLV. */
export function explicit(n: number, inner: Buffer): Buffer {
  return constructed(0xa0 | n, [inner]);
}

/** [n] IMPLICIT: a context tag replacing the inner tag; `constructed` for SEQUENCE-like content. */
export function implicit(n: number, content: Buffer | Uint8Array, constructed = false): Buffer {
  return tlv((constructed ? 0xa0 : 0x80) | n, content);
}

/** 9999-12-31T23:59:59Z: "no well-defined expiration" (RFC 5280 §4.1.2.5; IEEE 802.1AR IDevID). */
export const NO_EXPIRY_MS = Date.UTC(9999, 11, 31, 23, 59, 59);

/**
 * X.509 Time (RFC 5280 §4.1.2.5): UTCTime for years 1950-2049, GeneralizedTime otherwise, both
 * in seconds with `Z`. Milliseconds are truncated.
 */
export function x509Time(ms: number): Buffer {
  const d = new Date(ms);
  const year = d.getUTCFullYear();
  if (!Number.isFinite(ms) || year < 0 || year > 9999) throw new RangeError('time out of range');
  const p2 = (n: number): string => String(n).padStart(2, '0');
  const rest = `${p2(d.getUTCMonth() + 1)}${p2(d.getUTCDate())}${p2(d.getUTCHours())}${p2(d.getUTCMinutes())}${p2(d.getUTCSeconds())}Z`;
  if (year >= 1950 && year <= 2049) return tlv(DerTag.UTC_TIME, Buffer.from(`${p2(year % 100)}${rest}`, 'latin1'));
  return tlv(DerTag.GENERALIZED_TIME, Buffer.from(`${String(year).padStart(4, '0')}${rest}`, 'latin1'));
}

/** Writes an Uint8Array as PEM with the given label, 64 characters a line (RFC 7468). */
export function toPem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
