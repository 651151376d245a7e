import type { Command } from 'commander';
import { VulnError } from '@medtrust/server';
import type { CliContext } from '../context.ts';

/** `medtrust vuln list`: by firmware, for one device (with risk), or the fleet summary. */
export function registerVuln(program: Command, ctx: CliContext): void {
  const vuln = program.command('vuln').description('vulnerabilities of firmware and devices');
  vuln.command('list')
    .description('list vulnerabilities of a firmware (--model --version) or a device (--device); the fleet summary without options')
    .option('--model <model>', 'device model')
    .option('--version <version>', 'firmware version')
    .option('--device <id>', 'device id')
    .option('--json', 'print JSON')
    .action(async (o: { model?: string; version?: string; device?: string; json?: boolean }) => {
      const byFirmware = o.model !== undefined || o.version !== undefined;
      if ((byFirmware && o.device !== undefined) || (o.model === undefined) !== (o.version === undefined)) throw new VulnError('VULN_QUERY_INVALID', 'use --model M --version V, or --device ID');
      const p = await ctx.openPlatform();
      try {
        const out = ctx.output;
        if (o.device !== undefined) {
          const e = await p.services.vulns.deviceExposure(o.device, { kind: 'all' });
          if (o.json) return out.out(JSON.stringify(e));
          out.out(`device ${e.deviceId} (${e.model} ${e.firmwareVersion ?? 'no firmware'}): risk ${e.risk.score} (${e.risk.band})`);
          for (const line of e.risk.explanation) out.out(`  ${line}`);
          for (const v of e.vulnerabilities) out.out(`${v.status.padEnd(8)} ${v.vulnId.padEnd(20)} ${v.kev ? 'KEV ' : ''}${v.components.map((c) => `${c.name} ${c.version ?? ''}`).join(', ')}`);
          return;
        }
        if (o.model !== undefined && o.version !== undefined) {
          const list = await p.services.vulns.firmwareVulnerabilities({ model: o.model, firmwareVersion: o.version });
          if (o.json) return out.out(JSON.stringify(list));
          for (const v of list) out.out(`${v.status.padEnd(8)} ${v.vulnId.padEnd(20)} ${v.kev ? 'KEV ' : ''}${v.epss === null ? '' : `EPSS ${v.epss} `}${v.components.map((c) => `${c.name} ${c.version ?? ''}${c.fixedVersion ? ` (fixed ${c.fixedVersion})` : ''}`).join(', ')}`);
          out.out(`${list.filter((v) => v.status === 'affected').length} affected, ${list.filter((v) => v.status === 'unknown').length} unknown`);
          return;
        }
        const fleet = await p.services.vulns.fleetSummary({ kind: 'all' });
        if (o.json) return out.out(JSON.stringify(fleet));
        for (const f of fleet) out.out(`${f.model} ${f.firmwareVersion}: ${f.devices} devices, ${f.affected} affected (${f.kev} in KEV), ${f.unknown} unknown`);
      } finally {
        await p.stop();
      }
    });
}
