import { randomBytes, scrypt, type ScryptOptions, timingSafeEqual } from 'node:crypto';

/** scrypt cost: N = 2^logN, block size r, parallelism p (OWASP password storage: N=2^17, r=8, p=1). */
export interface ScryptParams {
  readonly logN: number;
  readonly r: number;
  readonly p: number;
}

export const DEFAULT_SCRYPT: ScryptParams = Object.freeze({ logN: 17, r: 8, p: 1 });

const KEY_BYTES = 32;
const SALT_BYTES = 16;
const FORMAT = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;

function derive(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const N = 2 ** params.logN;
  const opts: ScryptOptions = { N, r: params.r, p: params.p, maxmem: 256 * N * params.r };
  return new Promise((resolve, reject) => scrypt(password.normalize('NFKC'), salt, KEY_BYTES, opts, (e, k) => (e ? reject(e) : resolve(k))));
}

/**
 * Password hashes as `$scrypt$ln=17,r=8,p=1$<salt>$<hash>` (PHC-style): a random salt per user and
 * the cost stored with the hash, so raising the cost later keeps old hashes verifiable.
 */
export class PasswordHasher {
  readonly #params: ScryptParams;
  #dummy: Promise<string> | undefined;

  constructor(params: ScryptParams = DEFAULT_SCRYPT) {
    this.#params = params;
  }

  async hash(password: string): Promise<string> {
    const salt = randomBytes(SALT_BYTES);
    const key = await derive(password, salt, this.#params);
    const { logN, r, p } = this.#params;
    return `$scrypt$ln=${logN},r=${r},p=${p}$${salt.toString('base64')}$${key.toString('base64')}`;
  }

  /** Constant-time check; `stored` undefined (unknown user) still costs one derivation. */
  async verify(password: string, stored: string | undefined): Promise<boolean> {
    // Made on first use, with this hasher's cost, so an unknown user costs what a known one does.
    const encoded = stored ?? (await (this.#dummy ??= this.hash(randomBytes(16).toString('hex'))));
    const m = FORMAT.exec(encoded);
    if (!m) return false;
    const params = { logN: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
    if (params.logN < 10 || params.logN > 22) return false;
    const expected = Buffer.from(m[5] as string, 'base64');
    const key = await derive(password, Buffer.from(m[4] as string, 'base64'), params);
    // OWASP ASVS 2.4: compare derived keys in constant time.
    return key.length === expected.length && timingSafeEqual(key, expected) && stored !== undefined;
  }
}
