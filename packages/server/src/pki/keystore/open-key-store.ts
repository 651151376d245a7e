import type { Config } from '../../config/index.ts';
import { FileKeyStore } from './file/file-key-store.ts';
import { FileSecretStore } from './file/file-secret-store.ts';
import { MasterKeyring } from './file/master-keyring.ts';
import type { KeyStore, SecretStore } from './key-store.ts';
import { Pkcs11KeyStore } from './pkcs11/index.ts';

/** Options for tests: a cheaper scrypt cost. Production uses the defaults. */
export interface OpenKeyStoreOptions {
  readonly scryptN?: number;
}

/** The master keyring of a data dir (shared by the file key store and the secret store). */
export function openKeyring(config: Pick<Config, 'masterKey'>, dataDir: string, opts: OpenKeyStoreOptions = {}): MasterKeyring {
  return new MasterKeyring({ dataDir, masterKey: config.masterKey, scryptN: opts.scryptN });
}

/** Opens the configured key store. The master key is checked on first use (CA_KEY_LOCKED). */
export async function openKeyStore(config: Pick<Config, 'masterKey' | 'keyStore'>, dataDir: string, opts: OpenKeyStoreOptions & { keyring?: MasterKeyring } = {}): Promise<KeyStore> {
  const ks = config.keyStore;
  switch (ks.kind) {
    case 'file':
      return new FileKeyStore({ keyring: opts.keyring ?? openKeyring(config, dataDir, opts) });
    case 'pkcs11':
      // CA_KEY_LOCKED here (wrong PIN, absent token) stops start-up before anything is served.
      return Pkcs11KeyStore.open(ks);
    default:
      return ks satisfies never;
  }
}

/** Symmetric secrets are always sealed under the master key, whatever holds the private keys. */
export function openSecretStore(config: Pick<Config, 'masterKey'>, dataDir: string, opts: OpenKeyStoreOptions & { keyring?: MasterKeyring } = {}): SecretStore {
  return new FileSecretStore({ keyring: opts.keyring ?? openKeyring(config, dataDir, opts), dataDir });
}
