export { loadConfig } from './load-config.ts';
export type { ArtifactStoreConfig, Config, KeyStoreConfig } from './config.ts';
