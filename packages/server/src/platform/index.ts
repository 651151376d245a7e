export { Platform, VERSION } from './platform.ts';
export type { PlatformServices, InitResult, Listening } from './platform.ts';
export { ADMIN_TOKEN_FILE } from './admin-token.ts';
