import { type KeyAlgorithm, type KeyHandle, type KeyStore, FileKeyStore, openKeyring } from '../../pki/index.ts';
import { UpdateError } from '../errors.ts';

const OFFLINE = 'offline:';
const MIN_PASSPHRASE_CHARS = 16;

/**
 * The key store root ceremonies use. New root keys go to the separate root store (refs
 * `offline:<label>`, so `tuf_key.key_ref` says where every root key lives); keys made before the
 * root moved there are still found in the online store, once, to sign the hand-over root
 * (TUF 1.0 §6.1 needs the old root's threshold). Without a root store, an `offline:` key is
 * TUF_ROOT_KEYS_UNAVAILABLE: the serving process cannot sign a root.
 */
export class TufRootKeyStore implements KeyStore {
  readonly kind: 'file' | 'pkcs11';
  readonly #online: KeyStore;
  readonly #offline: KeyStore | undefined;

  constructor(opts: { online: KeyStore; offline?: KeyStore }) {
    this.#online = opts.online;
    this.#offline = opts.offline;
    this.kind = (opts.offline ?? opts.online).kind;
  }

  async generate(label: string, algorithm: KeyAlgorithm): Promise<KeyHandle> {
    if (!this.#offline) return this.#online.generate(label, algorithm);
    return offlineHandle(await this.#offline.generate(label, algorithm));
  }

  async load(ref: string): Promise<KeyHandle> {
    if (!ref.startsWith(OFFLINE)) return this.#online.load(ref);
    if (!this.#offline) throw new UpdateError('TUF_ROOT_KEYS_UNAVAILABLE', 'the TUF root keys are in the separate root key store, which this process does not hold');
    return offlineHandle(await this.#offline.load(ref.slice(OFFLINE.length)));
  }

  async close(): Promise<void> {
    await this.#offline?.close();
  }
}

function offlineHandle(h: KeyHandle): KeyHandle {
  return { ref: `${OFFLINE}${h.ref}`, algorithm: h.algorithm, publicKey: h.publicKey, sign: (data) => h.sign(data) };
}

/**
 * A separate encrypted file store for root keys: its own directory (`<dir>/keys/`) and its own
 * passphrase, scrypt-derived with its own salt, so neither the data dir nor MEDTRUST_MASTER_KEY
 * opens it. Kept on removable or offline media and attached only for a ceremony.
 */
export function openTufRootFileStore(opts: { dir: string; passphrase: string | undefined }): KeyStore {
  if (!opts.passphrase || opts.passphrase.length < MIN_PASSPHRASE_CHARS) {
    throw new UpdateError('TUF_ROOT_KEYS_UNAVAILABLE', `the root key store needs MEDTRUST_TUF_ROOT_PASSPHRASE of at least ${MIN_PASSPHRASE_CHARS} characters`);
  }
  return new FileKeyStore({ keyring: openKeyring({ masterKey: opts.passphrase }, opts.dir) });
}
