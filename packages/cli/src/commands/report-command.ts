import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { renderFda524bMarkdown } from '@medtrust/server';
import type { CliContext } from '../context.ts';

/** `medtrust report fda524b --out DIR`: FDA 524B evidence as Markdown and JSON. */
export function registerReport(program: Command, ctx: CliContext): void {
  const report = program.command('report').description('regulatory reports');
  report.command('fda524b')
    .description('write fda524b.md and fda524b.json: SBOM per firmware, vulnerabilities and status, disclosure-to-patch-to-deployed times, devices past end of support, update campaigns (emergency marked) with per-device status')
    .requiredOption('--out <dir>', 'output directory')
    .action(async (o: { out: string }) => {
      const p = await ctx.openPlatform();
      try {
        const r = await p.services.vulns.fda524bReport();
        mkdirSync(o.out, { recursive: true });
        writeFileSync(join(o.out, 'fda524b.json'), `${JSON.stringify(r, null, 2)}\n`);
        writeFileSync(join(o.out, 'fda524b.md'), renderFda524bMarkdown(r));
        ctx.output.out(`wrote ${join(o.out, 'fda524b.md')} and fda524b.json: ${r.firmwares.length} firmwares, ${r.vulnerabilities.length} vulnerability findings, ${r.devicesPastEndOfSupport.length} devices past end of support`);
      } finally {
        await p.stop();
      }
    });
}
