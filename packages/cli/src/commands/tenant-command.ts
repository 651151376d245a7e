import type { Command } from 'commander';
import type { CliContext } from '../context.ts';

/** `medtrust tenant create|list`. */
export function registerTenant(program: Command, ctx: CliContext): void {
  const tenant = program.command('tenant').description('tenants: the operator, customer hospitals and their sites');
  tenant.command('create')
    .description('create a customer or site tenant and print its id')
    .requiredOption('--kind <kind>', 'customer or site')
    .requiredOption('--name <name>', 'display name')
    .option('--parent <id>', 'the customer a site belongs to')
    .option('--time-zone <tz>', 'IANA time zone, e.g. Europe/Berlin')
    .option('--json', 'print the tenant as JSON')
    .action(async (o: { kind: string; name: string; parent?: string; timeZone?: string; json?: boolean }) => {
      const p = await ctx.openPlatform();
      try {
        const id = await p.services.tenants.create({ kind: o.kind as 'customer' | 'site', name: o.name, parentId: o.parent, timeZone: o.timeZone, createdBy: 'cli' });
        ctx.output.out(o.json ? JSON.stringify(await p.services.tenants.get(id)) : id);
      } finally {
        await p.stop();
      }
    });
  tenant.command('list')
    .description('list tenants')
    .option('--json', 'one JSON object per line')
    .action(async (o: { json?: boolean }) => {
      const p = await ctx.openPlatform();
      try {
        for (const t of await p.services.tenants.list()) {
          ctx.output.out(o.json ? JSON.stringify(t) : `${t.id}\t${t.kind}\t${t.name}${t.parentId ? `\tparent=${t.parentId}` : ''}${t.timeZone ? `\ttz=${t.timeZone}` : ''}`);
        }
      } finally {
        await p.stop();
      }
    });
}
