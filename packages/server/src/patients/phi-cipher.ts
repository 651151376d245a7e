import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { PatientError } from './errors.ts';

/**
 * Field-by-field sealing of PHI with AES-256-GCM. The AAD binds each ciphertext to its row and
 * field, so a sealed birth date cannot be swapped into another patient or another column.
 */
export class PhiCipher {
  readonly #key: Buffer;
  readonly #indexKey: Buffer;

  constructor(key: Buffer, indexKey: Buffer) {
    if (key.length !== 32 || indexKey.length !== 32) throw new PatientError('PHI_KEY_UNAVAILABLE', 'PHI keys must be 32 bytes');
    this.#key = key;
    this.#indexKey = indexKey;
  }

  seal(rowId: string, field: string, value: string): Buffer {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.#key, iv);
    c.setAAD(Buffer.from(`${rowId}\u0000${field}`));
    const ct = Buffer.concat([c.update(value, 'utf8'), c.final()]);
    return Buffer.concat([iv, c.getAuthTag(), ct]);
  }

  open(rowId: string, field: string, sealed: Buffer): string {
    try {
      const d = createDecipheriv('aes-256-gcm', this.#key, sealed.subarray(0, 12));
      d.setAAD(Buffer.from(`${rowId}\u0000${field}`));
      d.setAuthTag(sealed.subarray(12, 28));
      return Buffer.concat([d.update(sealed.subarray(28)), d.final()]).toString('utf8');
    } catch (cause) {
      throw new PatientError('PHI_KEY_UNAVAILABLE', 'a sealed patient field does not open with this key', { cause });
    }
  }

  /** Keyed blind index of an MRN (normalised: trimmed, upper case) within a tenant. */
  mrnIndex(tenantId: string, mrn: string): Buffer {
    return createHmac('sha256', this.#indexKey).update(`${tenantId}\u0000${mrn.trim().toUpperCase()}`).digest();
  }
}
