import type { Command } from 'commander';
import type { CliContext } from '../context.ts';

export function registerServe(program: Command, ctx: CliContext): void {
  program.command('serve').description('run the platform (initialises the data dir on first start)').action(async () => {
    const p = await ctx.openPlatform();
    const listening = await p.start();
    const init = await p.init();
    p.services.logger.warn({ ...listening, adminToken: init.adminTokenPath }, 'medtrust serving');
    ctx.output.out(`MedTrust ${listening.httpUrl} (admin token: ${init.adminTokenPath})`);
    await new Promise<void>((resolve) => {
      const stop = (): void => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await p.stop();
  });
}
