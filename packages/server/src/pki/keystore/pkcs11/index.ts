export { Pkcs11KeyStore } from './pkcs11-key-store.ts';
export type { Pkcs11KeyStoreConfig } from './pkcs11-token.ts';
