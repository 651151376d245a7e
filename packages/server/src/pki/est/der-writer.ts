/** The few DER building blocks EST responses need; see pkcs7-certs-only.ts for why by hand. */

function lengthBytes(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One TLV: tag byte, DER definite length, then the concatenated contents. */
export function tlv(tag: number, ...contents: readonly Buffer[]): Buffer {
  const body = contents.length === 1 ? contents[0]! : Buffer.concat(contents);
  return Buffer.concat([Buffer.from([tag]), lengthBytes(body.length), body]);
}

/** DER OBJECT IDENTIFIER from dotted notation. */
export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map((a) => Number(a));
  const [a0 = 0, a1 = 0, ...rest] = arcs;
  const out: number[] = [a0 * 40 + a1];
  for (const arc of rest) {
    const chunk: number[] = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

/**
 * Reads the outer TLV header at `offset`; returns the total encoded length of the element, or
 * undefined when the bytes are not a complete definite-length DER element.
 */
export function elementLength(der: Buffer, offset = 0): number | undefined {
  if (der.length < offset + 2) return undefined;
  const first = der[offset + 1]!;
  if (first < 0x80) return 2 + first;
  const n = first & 0x7f;
  // Indefinite length (0x80) is BER, not DER; more than 4 length bytes is never a CSR.
  if (n === 0 || n > 4 || der.length < offset + 2 + n) return undefined;
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + der[offset + 2 + i]!;
  return 2 + n + len;
}
