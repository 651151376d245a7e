import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { PolicyError } from '@medtrust/server';
import type { CliContext } from '../context.ts';

function readPolicyFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (cause) {
    throw new PolicyError('POLICY_INVALID', `cannot read ${file}`, { cause, details: { problems: [`${file}: cannot be read`] } });
  }
}

/** `medtrust policy apply|dry-run|list|decisions`: policies as data, run from the data dir. */
export function registerPolicy(program: Command, ctx: CliContext): void {
  const policy = program.command('policy').description('policies (JSON or YAML): apply, dry run, list, decisions');
  const tenantOf = async (p: Awaited<ReturnType<CliContext['openPlatform']>>, tenant: string | undefined): Promise<string> => tenant ?? (await p.services.tenants.ensureOperator());

  policy.command('apply <file>')
    .description('validate a policy file and save it as the next version (operator policies apply fleet-wide)')
    .option('--tenant <id>', 'hospital or site tenant that owns the policy (default: the operator)')
    .option('--json', 'print JSON')
    .action(async (file: string, o: { tenant?: string; json?: boolean }) => {
      const text = readPolicyFile(file);
      const p = await ctx.openPlatform();
      try {
        const doc = p.services.policies.parser.parseText(text);
        const tenantId = await tenantOf(p, o.tenant);
        await p.services.tenants.get(tenantId);
        const saved = await p.services.policies.store.save(tenantId, doc, 'cli');
        if (o.json) return ctx.output.out(JSON.stringify(saved));
        ctx.output.out(`policy ${saved.name} (${saved.id}) version ${saved.version} ${saved.enabled ? 'enabled' : 'disabled'}`);
      } finally {
        await p.stop();
      }
    });

  policy.command('dry-run <file>')
    .description('show which devices a policy would affect and which actions would run; changes nothing')
    .option('--tenant <id>', 'evaluate as this tenant\'s policy (default: the operator, fleet-wide)')
    .option('--json', 'print JSON')
    .action(async (file: string, o: { tenant?: string; json?: boolean }) => {
      const text = readPolicyFile(file);
      const p = await ctx.openPlatform();
      try {
        const doc = p.services.policies.parser.parseText(text);
        const tenantId = await tenantOf(p, o.tenant);
        const existing = (await p.services.policies.store.list(tenantId)).find((x) => x.name === doc.name);
        const hits = await p.services.policies.engine.dryRun(doc, tenantId, existing?.id);
        if (o.json) return ctx.output.out(JSON.stringify({ policy: doc.name, devices: new Set(hits.map((h) => h.deviceId)).size, hits }));
        for (const h of hits) ctx.output.out(`${h.deviceId} ${h.rule}: ${h.actions.map((a) => `${a.kind} (${a.detail})`).join(', ')}${h.alreadyDecided ? ' [already decided]' : ''}`);
        ctx.output.out(`${new Set(hits.map((h) => h.deviceId)).size} devices would be affected (dry run: nothing changed)`);
      } finally {
        await p.stop();
      }
    });

  policy.command('list')
    .description('list policies (latest version of each)')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const p = await ctx.openPlatform();
      try {
        const list = await p.services.policies.store.list(null);
        if (o.json) return ctx.output.out(JSON.stringify(list));
        for (const x of list) ctx.output.out(`${x.id} ${x.name} v${x.version} ${x.enabled ? 'enabled' : 'disabled'} tenant ${x.tenantId} trigger ${JSON.stringify(x.document.trigger)}`);
      } finally {
        await p.stop();
      }
    });

  policy.command('decisions')
    .description('recorded decisions, newest first')
    .option('--device <id>', 'only decisions about this device')
    .option('--policy <id>', 'only decisions of this policy (or anomaly:<kind>)')
    .option('--limit <n>', 'at most n (1-500)', '50')
    .option('--json', 'print JSON')
    .action(async (o: { device?: string; policy?: string; limit: string; json?: boolean }) => {
      const limit = Number(o.limit);
      if (!Number.isInteger(limit)) throw new PolicyError('POLICY_QUERY_INVALID', '--limit must be an integer');
      const p = await ctx.openPlatform();
      try {
        const list = await p.services.policies.decisions.list(null, { ...(o.device ? { deviceId: o.device } : {}), ...(o.policy ? { policyId: o.policy } : {}), limit });
        if (o.json) return ctx.output.out(JSON.stringify(list));
        for (const d of list) ctx.output.out(`${new Date(d.decidedAt).toISOString()} ${d.policyName} v${d.policyVersion} ${d.rule} device ${d.deviceId ?? '-'}: ${d.actions.map((a) => `${a.kind}:${a.outcome}`).join(' ')} | ${d.reason.join('; ')}`);
      } finally {
        await p.stop();
      }
    });
}
