import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';

/** `medtrust advisory create --vuln ID --out FILE`: a validated CSAF 2.0 security advisory. */
export function registerAdvisory(program: Command, ctx: CliContext): void {
  const advisory = program.command('advisory').description('CSAF 2.0 security advisories');
  advisory.command('create')
    .description('write the CSAF 2.0 advisory of a vulnerability (validated with csaf-validator-lib, strict + mandatory tests)')
    .requiredOption('--vuln <id>', 'vulnerability id (CVE, GHSA, OSV)')
    .requiredOption('--out <file>', 'output file')
    .action(async (o: { vuln: string; out: string }) => {
      const p = await ctx.openPlatform();
      try {
        const r = await p.services.vulns.vex.createAdvisory(o.vuln, 'cli');
        writeFileSync(o.out, `${JSON.stringify(r.csaf, null, 2)}\n`);
        const affected = r.standings.filter((s) => s.status === 'known_affected').length;
        ctx.output.out(`wrote ${o.out}: ${r.standings.length} firmware versions, ${affected} affected; ${r.affectedTenants.length} tenants to notify`);
      } finally {
        await p.stop();
      }
    });
}
