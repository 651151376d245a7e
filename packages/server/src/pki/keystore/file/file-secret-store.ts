import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PkiError } from '../../errors.ts';
import type { SecretStore } from '../key-store.ts';
import { openEnvelope, sealEnvelope } from './envelope.ts';
import type { MasterKeyring } from './master-keyring.ts';

const LABEL = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** 32-byte secrets sealed under the master key in `<dataDir>/secrets/`, created on first use. */
export class FileSecretStore implements SecretStore {
  readonly #ring: MasterKeyring;
  readonly #dir: string;
  readonly #cache = new Map<string, Promise<Buffer>>();

  constructor(opts: { keyring: MasterKeyring; dataDir: string }) {
    this.#ring = opts.keyring;
    this.#dir = join(opts.dataDir, 'secrets');
  }

  get(label: string): Promise<Buffer> {
    let p = this.#cache.get(label);
    if (!p) {
      p = this.#get(label);
      this.#cache.set(label, p);
      p.catch(() => this.#cache.delete(label));
    }
    return p.then((b) => Buffer.from(b));
  }

  async #get(label: string): Promise<Buffer> {
    if (!LABEL.test(label)) throw new PkiError('KEYSTORE_FAILURE', 'secret label must be 1-100 of [A-Za-z0-9._-]');
    const path = join(this.#dir, `${label}.secret`);
    mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
    const existing = readIfExists(path);
    if (existing) return (await openEnvelope(this.#ring, 'secret', label, existing)).plaintext;
    const secret = randomBytes(32);
    const sealed = await sealEnvelope(this.#ring, 'secret', label, '', secret);
    try {
      writeFileSync(path, sealed, { mode: 0o600, flag: 'wx' });
      return secret;
    } catch (e) {
      // Another process created it in between: theirs wins, so both use the same secret.
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new PkiError('KEYSTORE_FAILURE', 'cannot write the secret', { cause: e });
      return (await openEnvelope(this.#ring, 'secret', label, readFileSync(path))).plaintext;
    }
  }
}

function readIfExists(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new PkiError('KEYSTORE_FAILURE', 'cannot read the secret', { cause: e });
  }
}
