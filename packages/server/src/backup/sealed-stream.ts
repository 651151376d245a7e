import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { BackupError } from './errors.ts';

export const MAGIC = Buffer.from('MTBACKUP1\n');
const CHUNK_BYTES = 1 << 20;
const SCRYPT = { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

export interface BackupHeader {
  readonly format: 1;
  readonly createdAt: string;
  readonly dialect: string;
  readonly salt: string;
  readonly noncePrefix: string;
  readonly kdf: { readonly name: 'scrypt'; readonly N: number; readonly r: number; readonly p: number };
}

/**
 * Chunked authenticated encryption (the STREAM construction, as in age): each chunk is sealed
 * with AES-256-GCM under nonce = prefix || counter, with the header and a last-chunk flag as
 * AAD. An edited, dropped, reordered or truncated chunk fails to open; so does a wrong key.
 * Written by hand because no maintained npm library offers an encrypted, seekable-free archive
 * format with this property.
 */
export class SealingWriter {
  readonly #key: Buffer;
  readonly #prefix: Buffer;
  readonly #aad: Buffer;
  readonly #sink: (b: Buffer) => void;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #counter = 0;
  readonly header: BackupHeader;

  /** `sink` receives the sealed bytes in order (e.g. `fs.writeSync` on the output file). */
  constructor(passphrase: string, dialect: string, sink: (b: Buffer) => void) {
    this.#sink = sink;
    const salt = randomBytes(16);
    this.#prefix = randomBytes(8);
    this.header = { format: 1, createdAt: new Date().toISOString(), dialect, salt: salt.toString('base64'), noncePrefix: this.#prefix.toString('base64'), kdf: { name: 'scrypt', N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p } };
    this.#key = scryptSync(passphrase, salt, 32, SCRYPT);
    const headerBytes = Buffer.from(`${JSON.stringify(this.header)}\n`);
    this.#aad = headerBytes;
    sink(MAGIC);
    sink(headerBytes);
  }

  write(data: Buffer | string): void {
    const b = typeof data === 'string' ? Buffer.from(data) : data;
    this.#pending.push(b);
    this.#pendingBytes += b.length;
    while (this.#pendingBytes >= CHUNK_BYTES) this.#flush(false);
  }

  /** Seals what is pending as the last chunk. */
  finish(): void {
    this.#flush(true);
  }

  #flush(last: boolean): void {
    const all = Buffer.concat(this.#pending);
    const chunk = last ? all : all.subarray(0, CHUNK_BYTES);
    const rest = last ? Buffer.alloc(0) : all.subarray(CHUNK_BYTES);
    this.#pending = rest.length > 0 ? [rest] : [];
    this.#pendingBytes = rest.length;
    const c = createCipheriv('aes-256-gcm', this.#key, nonce(this.#prefix, this.#counter++));
    c.setAAD(Buffer.concat([this.#aad, Buffer.from([last ? 1 : 0])]));
    const ct = Buffer.concat([c.update(chunk), c.final()]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(ct.length);
    this.#sink(Buffer.concat([len, ct, c.getAuthTag()]));
  }
}

/** Opens a sealed backup completely (verifying every chunk) before anything is used. */
export function openSealed(file: Buffer, passphrase: string): { header: BackupHeader; plaintext: Buffer } {
  if (!file.subarray(0, MAGIC.length).equals(MAGIC)) throw new BackupError('BACKUP_FORMAT_UNSUPPORTED', 'not a MedTrust backup');
  const nl = file.indexOf(0x0a, MAGIC.length);
  if (nl < 0) throw new BackupError('BACKUP_CORRUPT', 'backup header is truncated');
  const headerBytes = file.subarray(MAGIC.length, nl + 1);
  let header: BackupHeader;
  try {
    header = JSON.parse(headerBytes.toString('utf8')) as BackupHeader;
  } catch (cause) {
    throw new BackupError('BACKUP_CORRUPT', 'backup header is not JSON', { cause });
  }
  if (header.format !== 1 || header.kdf?.name !== 'scrypt') throw new BackupError('BACKUP_FORMAT_UNSUPPORTED', `backup format ${String(header.format)}`);
  const key = scryptSync(passphrase, Buffer.from(header.salt, 'base64'), 32, { N: header.kdf.N, r: header.kdf.r, p: header.kdf.p, maxmem: SCRYPT.maxmem });
  const prefix = Buffer.from(header.noncePrefix, 'base64');
  const parts: Buffer[] = [];
  let off = nl + 1;
  let counter = 0;
  for (;;) {
    if (off + 4 > file.length) throw new BackupError('BACKUP_CORRUPT', 'backup is truncated');
    const len = file.readUInt32BE(off);
    const end = off + 4 + len + 16;
    if (end > file.length) throw new BackupError('BACKUP_CORRUPT', 'backup is truncated');
    const last = end === file.length;
    const d = createDecipheriv('aes-256-gcm', key, nonce(prefix, counter++));
    d.setAAD(Buffer.concat([headerBytes, Buffer.from([last ? 1 : 0])]));
    d.setAuthTag(file.subarray(off + 4 + len, end));
    try {
      parts.push(Buffer.concat([d.update(file.subarray(off + 4, off + 4 + len)), d.final()]));
    } catch (cause) {
      throw new BackupError('BACKUP_CORRUPT', 'backup does not verify (wrong passphrase or altered file)', { cause });
    }
    off = end;
    if (last) break;
  }
  return { header, plaintext: Buffer.concat(parts) };
}

function nonce(prefix: Buffer, counter: number): Buffer {
  const n = Buffer.alloc(12);
  prefix.copy(n, 0);
  n.writeUInt32BE(counter, 8);
  return n;
}
