export { createLogger, REDACT_PATHS } from './create-logger.ts';
export type { Logger } from './create-logger.ts';
