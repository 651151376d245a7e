// Written by hand because it runs once per issued certificate and is 20 lines of DER; asn1js
// would build an object tree for two integers.

function derInteger(unsigned: Buffer): Buffer {
  let start = 0;
  while (start < unsigned.length - 1 && unsigned[start] === 0) start++;
  const body = unsigned.subarray(start);
  // X.690 §8.3: INTEGER is two's complement, so a set top bit needs a leading zero octet.
  const pad = (body[0] ?? 0) & 0x80 ? 1 : 0;
  const len = body.length + pad;
  const out = Buffer.alloc(2 + len);
  out[0] = 0x02;
  out[1] = len;
  body.copy(out, 2 + pad);
  return out;
}

/**
 * Converts a PKCS#11 ECDSA signature (r || s, each the curve's field length, PKCS#11 v2.40
 * §2.3.1) into the DER ECDSA-Sig-Value that X.509 carries (RFC 5480 §2.2 / RFC 3279 §2.2.3).
 */
export function rawEcdsaToDer(raw: Buffer): Buffer {
  if (raw.length === 0 || raw.length % 2 !== 0 || raw.length > 132) {
    throw new RangeError(`ECDSA signature of ${raw.length} bytes is not r || s`);
  }
  const half = raw.length / 2;
  const r = derInteger(raw.subarray(0, half));
  const s = derInteger(raw.subarray(half));
  const bodyLen = r.length + s.length;
  // P-521 signatures exceed 127 bytes and need the long length form (X.690 §8.1.3.5).
  const header = bodyLen < 0x80 ? Buffer.from([0x30, bodyLen]) : Buffer.from([0x30, 0x81, bodyLen]);
  return Buffer.concat([header, r, s]);
}
