import { createHmac } from 'node:crypto';
import { openAes256Gcm, sealAes256Gcm } from '@medtrust/core';
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
    return sealAes256Gcm(this.#key, value, `${rowId}\u0000${field}`);
  }

  open(rowId: string, field: string, sealed: Buffer): string {
    try {
      return openAes256Gcm(this.#key, sealed, `${rowId}\u0000${field}`).toString('utf8');
    } catch (cause) {
      throw new PatientError('PHI_KEY_UNAVAILABLE', 'a sealed patient field does not open with this key', { cause });
    }
  }

  /** Keyed blind index of an MRN (normalised: trimmed, upper case) within a tenant. */
  mrnIndex(tenantId: string, mrn: string): Buffer {
    return createHmac('sha256', this.#indexKey).update(`${tenantId}\u0000${mrn.trim().toUpperCase()}`).digest();
  }
}
