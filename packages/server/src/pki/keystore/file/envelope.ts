import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { PkiError } from '../../errors.ts';
import type { MasterKeyring } from './master-keyring.ts';

const MAGIC = Buffer.from('MTKS', 'latin1');
const VERSION = 1;
const SALT_BYTES = 16;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** What a stored file holds: a PKCS#8 private key (with its algorithm) or a raw secret. */
export type EnvelopeKind = 'private-key' | 'secret';

/**
 * Seals bytes with AES-256-GCM. The header (magic, version, kind, metadata, salt, IV) and the
 * label are authenticated data, so a flipped byte or a file moved to another label is refused.
 */
export async function sealEnvelope(ring: MasterKeyring, kind: EnvelopeKind, label: string, meta: string, plaintext: Buffer): Promise<Buffer> {
  const metaBytes = Buffer.from(meta, 'utf8');
  if (metaBytes.length > 255) throw new PkiError('KEYSTORE_FAILURE', 'metadata too long');
  const salt = randomBytes(SALT_BYTES);
  const iv = randomBytes(IV_BYTES);
  const header = Buffer.concat([MAGIC, Buffer.from([VERSION, kind === 'private-key' ? 1 : 2, metaBytes.length]), metaBytes, salt, iv]);
  const key = await ring.fileKey(salt, kind);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.concat([header, Buffer.from(label, 'utf8')]));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([header, body, cipher.getAuthTag()]);
}

/** Opens a sealed file; KEYSTORE_FAILURE if it is malformed or fails authentication. */
export async function openEnvelope(ring: MasterKeyring, kind: EnvelopeKind, label: string, file: Buffer): Promise<{ meta: string; plaintext: Buffer }> {
  const bad = (why: string, cause?: unknown): PkiError => new PkiError('KEYSTORE_FAILURE', `stored ${kind} ${why}`, { cause, details: { label } });
  if (file.length < MAGIC.length + 3 + SALT_BYTES + IV_BYTES + TAG_BYTES || !file.subarray(0, 4).equals(MAGIC)) throw bad('is not a MedTrust key file');
  if (file[4] !== VERSION || file[5] !== (kind === 'private-key' ? 1 : 2)) throw bad('has an unsupported version or kind');
  const metaLen = file[6] as number;
  const headerLen = 7 + metaLen + SALT_BYTES + IV_BYTES;
  if (file.length < headerLen + TAG_BYTES) throw bad('is truncated');
  const header = file.subarray(0, headerLen);
  const salt = file.subarray(7 + metaLen, 7 + metaLen + SALT_BYTES);
  const iv = file.subarray(7 + metaLen + SALT_BYTES, headerLen);
  const key = await ring.fileKey(salt, kind);
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAAD(Buffer.concat([header, Buffer.from(label, 'utf8')]));
  decipher.setAuthTag(file.subarray(file.length - TAG_BYTES));
  try {
    const plaintext = Buffer.concat([decipher.update(file.subarray(headerLen, file.length - TAG_BYTES)), decipher.final()]);
    return { meta: file.subarray(7, 7 + metaLen).toString('utf8'), plaintext };
  } catch (e) {
    // The master key was verified by the keyring, so a failing tag means the file was altered.
    throw bad('failed authentication (altered or damaged)', e);
  }
}
