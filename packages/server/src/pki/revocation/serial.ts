import { PkiError } from '../errors.ts';

/**
 * Normalises a serial typed by a person (`0A:1B`, `0x0a1b`, upper case) to the stored form:
 * lower-case hex of the DER INTEGER content. CERT_NOT_FOUND when it cannot be a serial.
 */
export function normaliseSerial(input: string): string {
  let s = input.trim().toLowerCase().replace(/[:\s]/g, '');
  if (s.startsWith('0x')) s = s.slice(2);
  if (!/^[0-9a-f]{1,42}$/.test(s)) throw new PkiError('CERT_NOT_FOUND', 'a serial is up to 20 bytes of hex', { details: { serial: input.slice(0, 64) } });
  if (s.length % 2 === 1) s = `0${s}`;
  // DER INTEGER: strip redundant leading zero bytes, keep one when the next byte has its top bit set.
  while (s.length > 2 && s.startsWith('00') && parseInt(s[2]!, 16) < 8) s = s.slice(2);
  if (parseInt(s[0]!, 16) >= 8) s = `00${s}`;
  return s;
}
