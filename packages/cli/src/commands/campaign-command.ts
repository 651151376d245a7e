import type { Command } from 'commander';
import type { Platform } from '@medtrust/server';
import type { CliContext } from '../context.ts';

type CampaignView = Awaited<ReturnType<Platform['services']['updates']['campaigns']['get']>>;

const collect = (v: string, prev: string[]): string[] => [...prev, v];

function line(c: CampaignView): string {
  const n = c.counts;
  return `${c.id} ${c.state} phase ${c.currentPhase + 1}/${c.phases.length} installed ${n.installed} pending ${n.pending} (therapy ${c.deferredForTherapy}) failed ${n.failed + n['rolled-back']}${c.requiresApproval ? ' approval-gated' : ''}${c.emergency ? ' EMERGENCY' : ''}`;
}

/** `medtrust campaign ...` and `medtrust tags ...`: phased rollouts and the device tags they select by. */
export function registerCampaign(program: Command, ctx: CliContext): void {
  const run = async (fn: (p: Platform) => Promise<void>): Promise<void> => {
    const p = await ctx.openPlatform();
    try {
      await fn(p);
    } finally {
      await p.stop();
    }
  };
  const campaign = program.command('campaign').description('phased rollouts of published releases');
  campaign.command('create')
    .description('start a campaign for a published release')
    .requiredOption('--release <id>', 'published release id')
    .requiredOption('--name <name>', 'campaign name')
    .requiredOption('--model <model>', 'device model to select')
    .option('--site <id>', 'only devices of this site (repeatable)', collect, [])
    .option('--firmware <version>', 'only devices running this firmware')
    .option('--tag <tag>', 'only devices with this tag (repeatable: all of them)', collect, [])
    .option('--phases <list>', 'cumulative percentages, e.g. 1,10,50,100')
    .option('--success <fraction>', 'installed fraction that opens the next phase', Number)
    .option('--failure <fraction>', 'failed fraction that pauses the campaign', Number)
    .option('--window <start-end>', 'maintenance window in each site\'s local hours, e.g. 2-5')
    .option('--emergency', 'skip maintenance windows and phase waits (never the clinical safety gate)')
    .option('--requires-approval', 'each next phase waits for `medtrust campaign approve`')
    .option('--json', 'print the campaign as JSON')
    .action(async (o: { release: string; name: string; model: string; site: string[]; firmware?: string; tag: string[]; phases?: string; success?: number; failure?: number; window?: string; emergency?: boolean; requiresApproval?: boolean; json?: boolean }) => run(async (p) => {
      const [start, end] = (o.window ?? '').split('-').map(Number);
      const c = await p.services.updates.campaigns.create({
        releaseId: o.release, name: o.name, actor: 'cli',
        selection: { model: o.model, ...(o.site.length ? { siteIds: o.site } : {}), ...(o.firmware ? { currentFirmware: o.firmware } : {}), ...(o.tag.length ? { tags: o.tag } : {}) },
        ...(o.phases ? { phases: o.phases.split(',').map(Number) } : {}),
        ...(o.success !== undefined ? { successThreshold: o.success } : {}), ...(o.failure !== undefined ? { failureThreshold: o.failure } : {}),
        ...(o.window ? { maintenanceWindow: { startHour: start ?? Number.NaN, endHour: end ?? Number.NaN } } : {}),
        emergency: o.emergency === true, requiresApproval: o.requiresApproval === true,
      });
      ctx.output.out(o.json ? JSON.stringify(c) : line(c));
    }));
  campaign.command('show <id>').description('a campaign with per-status device counts').option('--json', 'print JSON')
    .action(async (id: string, o: { json?: boolean }) => run(async (p) => {
      const c = await p.services.updates.campaigns.get(id);
      ctx.output.out(o.json ? JSON.stringify(c) : line(c));
    }));
  for (const action of ['approve', 'resume'] as const) {
    campaign.command(`${action} <id>`)
      .description(action === 'approve' ? 'open the next phase of a campaign awaiting approval (audited)' : 'resume a paused campaign')
      .option('--json', 'print the campaign as JSON')
      .action(async (id: string, o: { json?: boolean }) => run(async (p) => {
        const c = await p.services.updates.campaigns[action](id, 'cli');
        ctx.output.out(o.json ? JSON.stringify(c) : line(c));
      }));
  }

  const tags = program.command('tags').description('device tags (campaigns select by them)');
  const operator = async (p: Platform) => ({ tenantId: await p.services.tenants.ensureOperator(), tenantKind: 'operator' as const });
  tags.command('set <device-id> [tags...]').description('replace the device\'s tags (none: clear them)').option('--json', 'print JSON')
    .action(async (deviceId: string, list: string[], o: { json?: boolean }) => run(async (p) => {
      const t = await p.services.updates.tags.set(await operator(p), deviceId, list, 'cli');
      ctx.output.out(o.json ? JSON.stringify({ tags: t }) : t.join(' '));
    }));
  tags.command('get <device-id>').description('the device\'s tags').option('--json', 'print JSON')
    .action(async (deviceId: string, o: { json?: boolean }) => run(async (p) => {
      const t = await p.services.updates.tags.list(await operator(p), deviceId);
      ctx.output.out(o.json ? JSON.stringify({ tags: t }) : t.join(' '));
    }));
}
