import { type Config, loadConfig, Platform, createLogger } from '@medtrust/server';
import type { Output } from './output.ts';

/** What every command gets: config from the environment, output, and a way to open the platform. */
export interface CliContext {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly output: Output;
  config(): Config;
  /** Opens the data dir and database (migrated) without listening; caller closes it. */
  openPlatform(): Promise<Platform>;
}

export function createContext(env: Readonly<Record<string, string | undefined>>, output: Output): CliContext {
  let config: Config | undefined;
  const ctx: CliContext = {
    env,
    output,
    config: () => (config ??= loadConfig(env)),
    openPlatform: async () => {
      const c = ctx.config();
      // CLI commands log warnings only, on stderr, so their stdout stays machine-readable.
      const logger = createLogger({ level: c.logLevel === 'info' ? 'warn' : c.logLevel, destination: process.stderr });
      return Platform.open({ config: c, logger });
    },
  };
  return ctx;
}
