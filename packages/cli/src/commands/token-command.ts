import type { Command } from 'commander';
import type { CliContext } from '../context.ts';

export function registerToken(program: Command, ctx: CliContext): void {
  const token = program.command('token').description('API tokens');
  token.command('create')
    .description('create an API token and print it once')
    .requiredOption('--role <role>', 'role the token acts as (docs/access.md)')
    .option('--tenant <id>', 'tenant id (default: the operator tenant)')
    .option('--name <name>', 'label for the token', 'cli')
    .option('--ttl-days <n>', 'days until it expires', (v) => Number(v))
    .option('--json', 'print {"id","token","expiresAt"}')
    .action(async (o: { role: string; tenant?: string; name: string; ttlDays?: number; json?: boolean }) => {
      const p = await ctx.openPlatform();
      try {
        const tenantId = o.tenant ?? (await p.services.tenants.ensureOperator());
        const t = await p.services.tokens.create({ tenantId, role: o.role, name: o.name, ttlDays: o.ttlDays, createdBy: 'cli' });
        ctx.output.out(o.json ? JSON.stringify(t) : t.token);
      } finally {
        await p.stop();
      }
    });
}
