import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';

/** `medtrust sbom import|export`: firmware SBOMs (CycloneDX 1.4-1.6, SPDX 2.3 in; CycloneDX 1.6 out). */
export function registerSbom(program: Command, ctx: CliContext): void {
  const sbom = program.command('sbom').description('firmware SBOMs');
  sbom.command('import')
    .description('validate and store the SBOM of a model and firmware version, then match it')
    .requiredOption('--model <model>', 'device model')
    .requiredOption('--version <version>', 'firmware version')
    .argument('<file>', 'CycloneDX or SPDX JSON')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, o: { model: string; version: string; json?: boolean }) => {
      const text = readFileSync(file, 'utf8');
      const p = await ctx.openPlatform();
      try {
        const r = await p.services.vulns.importSbom({ model: o.model, firmwareVersion: o.version, text, actor: 'cli' });
        ctx.output.out(o.json ? JSON.stringify(r) : `stored ${r.format} ${r.specVersion} SBOM for ${o.model} ${o.version}: ${r.components} components, ${r.matches} matches`);
      } finally {
        await p.stop();
      }
    });
  sbom.command('export')
    .description('write the stored SBOM of a firmware as CycloneDX 1.6 JSON')
    .requiredOption('--model <model>', 'device model')
    .requiredOption('--version <version>', 'firmware version')
    .option('--out <file>', 'output file (default: stdout)')
    .action(async (o: { model: string; version: string; out?: string }) => {
      const p = await ctx.openPlatform();
      try {
        const json = await p.services.vulns.exportSbom({ model: o.model, firmwareVersion: o.version });
        if (o.out) writeFileSync(o.out, json);
        else ctx.output.out(json);
      } finally {
        await p.stop();
      }
    });
}
