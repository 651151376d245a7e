import { createHmac, hkdfSync, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PkiError } from '../../errors.ts';

/** Name of the generated master key file in the data dir, used when MEDTRUST_MASTER_KEY is unset. */
export const MASTER_KEY_FILE = 'master.key';
const PARAMS_FILE = 'keystore.json';
const CHECK_LABEL = 'medtrust keystore master key check v1';
/** scrypt cost: 2^15 x 8 x 1 takes ~100 ms and 32 MiB, once per process. */
export const DEFAULT_SCRYPT_N = 1 << 15;
const MAX_SCRYPT_N = 1 << 20;

interface KeystoreParams {
  readonly version: 1;
  readonly kdf: 'scrypt';
  readonly N: number;
  readonly r: number;
  readonly p: number;
  readonly salt: string;
  /** HMAC of a fixed label under the derived key: tells a wrong master key from a damaged file. */
  readonly check: string;
}

/**
 * The key-encryption key of the file key and secret stores: derived once per process with scrypt
 * from MEDTRUST_MASTER_KEY, or from a generated `<dataDir>/master.key` (0600) when none is given.
 * Each stored file then gets its own key by HKDF with the file's random salt.
 */
export class MasterKeyring {
  readonly #dataDir: string;
  readonly #masterKey: string | undefined;
  readonly #scryptN: number;
  #kek: Promise<Buffer> | undefined;

  constructor(opts: { dataDir: string; masterKey: string | undefined; scryptN?: number }) {
    this.#dataDir = opts.dataDir;
    this.#masterKey = opts.masterKey;
    this.#scryptN = opts.scryptN ?? DEFAULT_SCRYPT_N;
  }

  get keysDir(): string {
    return join(this.#dataDir, 'keys');
  }

  /** The per-file AES-256 key for a file salt and purpose. */
  async fileKey(salt: Buffer, purpose: string): Promise<Buffer> {
    const kek = await (this.#kek ??= this.#derive().catch((e: unknown) => {
      this.#kek = undefined;
      throw e;
    }));
    return Buffer.from(hkdfSync('sha256', kek, salt, `medtrust/keystore/v1/${purpose}`, 32));
  }

  async #derive(): Promise<Buffer> {
    const secret = this.#masterSecret();
    mkdirSync(this.keysDir, { recursive: true, mode: 0o700 });
    const paramsPath = join(this.keysDir, PARAMS_FILE);
    let params: KeystoreParams;
    if (existsSync(paramsPath)) {
      params = parseParams(readFileSync(paramsPath, 'utf8'));
    } else {
      if (readdirSync(this.keysDir).some((f) => f.endsWith('.key'))) throw new PkiError('KEYSTORE_FAILURE', `${PARAMS_FILE} is missing but keys exist`);
      const salt = randomBytes(16);
      const kek = await scryptAsync(secret, salt, this.#scryptN);
      params = { version: 1, kdf: 'scrypt', N: this.#scryptN, r: 8, p: 1, salt: salt.toString('base64'), check: checkValue(kek).toString('base64') };
      try {
        writeFileSync(paramsPath, JSON.stringify(params), { mode: 0o600, flag: 'wx' });
        return kek;
      } catch (e) {
        // Another process created it first: fall through and verify against theirs.
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new PkiError('KEYSTORE_FAILURE', 'cannot write keystore parameters', { cause: e });
        params = parseParams(readFileSync(paramsPath, 'utf8'));
      }
    }
    const kek = await scryptAsync(secret, Buffer.from(params.salt, 'base64'), params.N);
    const expected = Buffer.from(params.check, 'base64');
    const actual = checkValue(kek);
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
      throw new PkiError('CA_KEY_LOCKED', 'the master key does not open this key store');
    }
    return kek;
  }

  #masterSecret(): Buffer {
    if (this.#masterKey !== undefined) return Buffer.from(this.#masterKey, 'utf8');
    const path = join(this.#dataDir, MASTER_KEY_FILE);
    mkdirSync(this.#dataDir, { recursive: true, mode: 0o700 });
    try {
      writeFileSync(path, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new PkiError('KEYSTORE_FAILURE', 'cannot create the master key file', { cause: e });
    }
    // Least privilege: a master key readable by group or others is refused, not silently used.
    if ((statSync(path).mode & 0o077) !== 0) throw new PkiError('KEYSTORE_FAILURE', `${MASTER_KEY_FILE} must be mode 0600`);
    return Buffer.from(readFileSync(path, 'utf8').trim(), 'utf8');
  }
}

function checkValue(kek: Buffer): Buffer {
  return createHmac('sha256', kek).update(CHECK_LABEL).digest();
}

function parseParams(text: string): KeystoreParams {
  let p: Partial<KeystoreParams>;
  try {
    p = JSON.parse(text) as Partial<KeystoreParams>;
  } catch (e) {
    throw new PkiError('KEYSTORE_FAILURE', `${PARAMS_FILE} is not valid JSON`, { cause: e });
  }
  const N = p.N ?? 0;
  if (p.version !== 1 || p.kdf !== 'scrypt' || !Number.isInteger(N) || N < 2 || N > MAX_SCRYPT_N || (N & (N - 1)) !== 0 || p.r !== 8 || p.p !== 1 || typeof p.salt !== 'string' || typeof p.check !== 'string') {
    throw new PkiError('KEYSTORE_FAILURE', `${PARAMS_FILE} has unsupported parameters`);
  }
  return p as KeystoreParams;
}

function scryptAsync(secret: Buffer, salt: Buffer, N: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, 32, { N, r: 8, p: 1, maxmem: 256 * N * 8 + 1024 * 1024 }, (err, key) => (err ? reject(new PkiError('KEYSTORE_FAILURE', 'key derivation failed', { cause: err })) : resolve(key)));
  });
}
