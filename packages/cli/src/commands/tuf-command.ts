import type { Command } from 'commander';
import type { CliContext } from '../context.ts';

/** `medtrust tuf ...`: ceremonies that need the (offline) TUF root keys. */
export function registerTuf(program: Command, ctx: CliContext): void {
  const tuf = program.command('tuf').description('the TUF repository served at /tuf');
  tuf.command('rotate-root')
    .description('sign a new root version with the old and the new root keys (TUF 1.0 §6.1)')
    .option('--keys <n>', 'number of new root keys', (v) => Number(v), 2)
    .option('--threshold <n>', 'signatures the new root requires', (v) => Number(v), 2)
    .option('--json', 'print {"version","keyIds"}')
    .action(async (o: { keys: number; threshold: number; json?: boolean }) => {
      const p = await ctx.openPlatform();
      try {
        await p.init();
        const r = await p.services.updates.ceremony.rotateRoot({ actor: 'cli', keyCount: o.keys, threshold: o.threshold });
        ctx.output.out(o.json ? JSON.stringify(r) : `root version ${r.version} signed; root keys ${r.keyIds.join(', ')}`);
      } finally {
        await p.stop();
      }
    });
}
