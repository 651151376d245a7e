export { loadConfig } from './load-config.ts';
export type { Config, KeyStoreConfig } from './config.ts';
