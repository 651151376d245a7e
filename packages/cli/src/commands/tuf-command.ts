import type { Command } from 'commander';
import type { Platform } from '@medtrust/server';
import type { CliContext } from '../context.ts';

/** `medtrust tuf ...`: ceremonies that need the (offline) TUF root keys. */
export function registerTuf(program: Command, ctx: CliContext): void {
  const tuf = program.command('tuf').description('the TUF repository served at /tuf');
  // The separate root key store: its own directory and passphrase (env, so not in shell history or ps).
  const ceremonyOf = (p: Platform, dir: string | undefined) =>
    dir === undefined ? p.services.updates.ceremony : p.services.updates.rootFileCeremony({ dir, passphrase: ctx.env.MEDTRUST_TUF_ROOT_PASSPHRASE });
  tuf.command('init')
    .description('create the TUF repository with its root keys in a separate root key store (before the first `serve`)')
    .requiredOption('--root-key-dir <dir>', 'directory of the root key store (removable or offline media); passphrase in MEDTRUST_TUF_ROOT_PASSPHRASE')
    .option('--json', 'print {"created"}')
    .action(async (o: { rootKeyDir: string; json?: boolean }) => {
      const p = await ctx.openPlatform();
      try {
        const created = await ceremonyOf(p, o.rootKeyDir).initialise('cli');
        ctx.output.out(o.json ? JSON.stringify({ created }) : created ? `TUF root v1 signed; root keys in ${o.rootKeyDir}` : 'the TUF repository already exists (use rotate-root --root-key-dir to move its root keys)');
      } finally {
        await p.stop();
      }
    });
  tuf.command('rotate-root')
    .description('sign a new root version with the old and the new root keys (TUF 1.0 §6.1)')
    .option('--keys <n>', 'number of new root keys', (v) => Number(v), 2)
    .option('--threshold <n>', 'signatures the new root requires', (v) => Number(v), 2)
    .option('--root-key-dir <dir>', 'put the new root keys in this separate root key store (passphrase in MEDTRUST_TUF_ROOT_PASSPHRASE)')
    .option('--json', 'print {"version","keyIds"}')
    .action(async (o: { keys: number; threshold: number; rootKeyDir?: string; json?: boolean }) => {
      const p = await ctx.openPlatform();
      try {
        const ceremony = ceremonyOf(p, o.rootKeyDir);
        await p.init();
        const r = await ceremony.rotateRoot({ actor: 'cli', keyCount: o.keys, threshold: o.threshold });
        ctx.output.out(o.json ? JSON.stringify(r) : `root version ${r.version} signed; root keys ${r.keyIds.join(', ')}`);
      } finally {
        await p.stop();
      }
    });
}
