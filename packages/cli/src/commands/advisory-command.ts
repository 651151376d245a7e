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
        ctx.output.out(`wrote ${o.out}: ${r.standings.length} firmware versions, ${affected} affected; ${r.notices.length} tenants notified`);
      } finally {
        await p.stop();
      }
    });
  advisory.command('notices')
    .description('list the advisory notices sent to hospitals (newest first)')
    .option('--tenant <id>', 'only this tenant\'s notices')
    .option('--unacknowledged', 'only notices nobody has acknowledged yet')
    .option('--json', 'print JSON')
    .action(async (o: { tenant?: string; unacknowledged?: boolean; json?: boolean }) => {
      const p = await ctx.openPlatform();
      try {
        const scope = o.tenant === undefined ? { kind: 'all' as const } : { kind: 'tenant' as const, tenantId: o.tenant };
        const notices = await p.services.vulns.notices.list(scope, { unacknowledged: o.unacknowledged === true, limit: 500 });
        if (o.json) {
          ctx.output.out(JSON.stringify(notices, null, 2));
          return;
        }
        if (notices.length === 0) ctx.output.out('no advisory notices');
        for (const n of notices) ctx.output.out(`${n.id}  ${n.createdAt}  tenant ${n.tenantId}  ${n.vulnId}  ${n.affectedDevices} devices  ${n.acknowledgedAt === null ? 'UNACKNOWLEDGED' : `acknowledged by ${n.acknowledgedBy ?? '?'}`}`);
      } finally {
        await p.stop();
      }
    });
}
