import { writeFileSync } from 'node:fs';
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
          for (const v of e.vulnerabilities) out.out(`${v.status.padEnd(8)} ${v.vulnId.padEnd(20)} ${v.kev ? 'KEV ' : ''}${[...new Set(v.components.map((c) => `${c.name} ${c.version ?? ''}`))].join(', ')}`);
          return;
        }
        if (o.model !== undefined && o.version !== undefined) {
          const list = await p.services.vulns.firmwareVulnerabilities({ model: o.model, firmwareVersion: o.version });
          if (o.json) return out.out(JSON.stringify(list));
          for (const v of list) out.out(`${v.status.padEnd(8)} ${v.vulnId.padEnd(20)} ${v.kev ? 'KEV ' : ''}${v.epss === null ? '' : `EPSS ${v.epss} `}${[...new Set(v.components.map((c) => `${c.name} ${c.version ?? ''}${c.fixedVersion ? ` (fixed ${c.fixedVersion})` : ''}`))].join(', ')}`);
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
  const vex = vuln.command('vex').description('VEX analyses (manufacturer)');
  vex.command('set')
    .description('record the analysis of a vulnerability in a firmware')
    .requiredOption('--model <model>', 'device model')
    .requiredOption('--version <version>', 'firmware version')
    .requiredOption('--vuln <id>', 'vulnerability id (CVE, GHSA, OSV)')
    .requiredOption('--status <status>', 'not_affected, affected, fixed or under_investigation')
    .option('--justification <j>', 'for not_affected: component_not_present, vulnerable_code_not_present, vulnerable_code_not_in_execute_path, vulnerable_code_cannot_be_controlled_by_adversary, inline_mitigations_already_exist')
    .option('--detail <text>', 'impact statement or action')
    .action(async (o: { model: string; version: string; vuln: string; status: string; justification?: string; detail?: string }) => {
      const p = await ctx.openPlatform();
      try {
        const r = await p.services.vulns.vex.record({ model: o.model, firmwareVersion: o.version, vulnId: o.vuln, status: o.status, justification: o.justification ?? null, detail: o.detail ?? null }, 'cli');
        ctx.output.out(`${r.model} ${r.firmwareVersion} ${r.vulnId}: ${r.status}${r.justification ? ` (${r.justification})` : ''}`);
      } finally {
        await p.stop();
      }
    });
  vex.command('export')
    .description('write the VEX of a model as CycloneDX 1.6 or CSAF 2.0 (validated)')
    .requiredOption('--model <model>', 'device model')
    .option('--format <f>', 'cyclonedx or csaf', 'cyclonedx')
    .option('--out <file>', 'output file (default: stdout)')
    .action(async (o: { model: string; format: string; out?: string }) => {
      if (o.format !== 'cyclonedx' && o.format !== 'csaf') throw new VulnError('VULN_QUERY_INVALID', '--format is cyclonedx or csaf');
      const p = await ctx.openPlatform();
      try {
        const json = o.format === 'csaf' ? JSON.stringify(await p.services.vulns.vex.exportCsaf(o.model), null, 2) : await p.services.vulns.vex.exportCycloneDx(o.model);
        if (o.out) writeFileSync(o.out, json);
        else ctx.output.out(json);
      } finally {
        await p.stop();
      }
    });
}
