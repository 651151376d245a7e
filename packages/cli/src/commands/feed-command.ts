import type { Command } from 'commander';
import { readFeedPaths } from '@medtrust/server';
import type { CliContext } from '../context.ts';

/** `medtrust feed import FILE|DIR...`: offline feed files (OSV, NVD 2.0, KEV, EPSS, zip dumps). */
export function registerFeed(program: Command, ctx: CliContext): void {
  const feed = program.command('feed').description('vulnerability feeds');
  feed.command('import')
    .description('import OSV JSON (files, directories, zip dumps), NVD CVE API 2.0 JSON, CISA KEV JSON and EPSS CSV')
    .argument('<paths...>', 'files or directories')
    .option('--json', 'print the import report as JSON')
    .action(async (paths: string[], o: { json?: boolean }) => {
      const batch = readFeedPaths(paths);
      const p = await ctx.openPlatform();
      try {
        const r = await p.services.vulns.importFeed(batch, 'cli');
        if (o.json) {
          ctx.output.out(JSON.stringify(r));
          return;
        }
        ctx.output.out(`advisories: ${r.advisories.imported} imported, ${r.advisories.unchanged} unchanged, ${r.advisories.rejected} rejected; KEV ${r.kev}; EPSS ${r.epss}; re-matched ${r.rematch.firmwares} firmwares (${r.rematch.matches} matches)`);
        for (const x of r.rejected.slice(0, 50)) ctx.output.err(`rejected ${x.origin}: ${x.reason}`);
        if (r.rejected.length > 50) ctx.output.err(`... and ${r.rejected.length - 50} more rejected`);
      } finally {
        await p.stop();
      }
    });
}
