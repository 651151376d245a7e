import type { KeyAlgorithm, KeyHandle, KeyStore } from './key-store.ts';

/**
 * Opens the real store on first use, so that commands which never touch a key (and processes
 * whose HSM is absent) do not pay for, or fail on, opening it.
 */
export class LazyKeyStore implements KeyStore {
  readonly kind: KeyStore['kind'];
  readonly #open: () => Promise<KeyStore>;
  #store: Promise<KeyStore> | undefined;

  constructor(kind: KeyStore['kind'], open: () => Promise<KeyStore>) {
    this.kind = kind;
    this.#open = open;
  }

  async generate(label: string, algorithm: KeyAlgorithm): Promise<KeyHandle> {
    return (await this.#get()).generate(label, algorithm);
  }

  async load(ref: string): Promise<KeyHandle> {
    return (await this.#get()).load(ref);
  }

  async close(): Promise<void> {
    const s = this.#store;
    this.#store = undefined;
    if (s) await (await s.catch(() => undefined))?.close();
  }

  #get(): Promise<KeyStore> {
    if (!this.#store) {
      const p = this.#open();
      this.#store = p;
      p.catch(() => {
        if (this.#store === p) this.#store = undefined;
      });
    }
    return this.#store;
  }
}
