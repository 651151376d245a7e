import pino, { type Logger } from 'pino';

/** Paths that must never reach a log line: credentials, keys, PHI fields. */
export const REDACT_PATHS = [
  'req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'authorization',
  'password', '*.password', 'token', '*.token', 'secret', '*.secret', 'masterKey', '*.masterKey', 'pin', '*.pin',
  'privateKey', '*.privateKey', 'mrn', '*.mrn', 'name.given', 'birthDate', '*.birthDate',
];

/** The platform logger: JSON lines on stdout (or a destination), secrets redacted. */
export function createLogger(opts: { level: string; destination?: NodeJS.WritableStream }): Logger {
  return pino({ level: opts.level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { svc: 'medtrust' } }, opts.destination as pino.DestinationStream | undefined);
}

export type { Logger };
