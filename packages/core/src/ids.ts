import { randomBytes } from 'node:crypto';

// Crockford base32: case-insensitive, no I/L/O/U, so ids survive being read aloud or typed.
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

/** A random id with a type prefix, e.g. `dev_7f3k...` (130 bits of randomness). */
export function newId(prefix: string): string {
  const bytes = randomBytes(17);
  let out = '';
  for (let i = 0; i < 26; i++) {
    const bit = i * 5;
    const byte = bit >> 3;
    const shift = bit & 7;
    const v = (((bytes[byte] ?? 0) << 8) | (bytes[byte + 1] ?? 0)) >> (11 - shift);
    out += ALPHABET[v & 31];
  }
  return `${prefix}_${out}`;
}
