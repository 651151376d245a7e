import type { Command } from 'commander';
import type { CliContext } from '../context.ts';

export function registerInit(program: Command, ctx: CliContext): void {
  program.command('init').description('create the data dir, database, CA hierarchy and admin token (idempotent)').action(async () => {
    const p = await ctx.openPlatform();
    try {
      const r = await p.init();
      ctx.output.out(`data dir: ${ctx.config().dataDir}`);
      ctx.output.out(r.adminTokenCreated ? `admin token written to ${r.adminTokenPath} (mode 0600)` : `admin token already at ${r.adminTokenPath}`);
    } finally {
      await p.stop();
    }
  });
}
