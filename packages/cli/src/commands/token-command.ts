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
  token.command('revoke')
    .description('revoke an API token by id')
    .argument('<id>', 'token id (tok_...)')
    .action(async (id: string) => {
      const p = await ctx.openPlatform();
      try {
        await p.services.tokens.revoke(id, 'cli');
        ctx.output.out(`revoked ${id}`);
      } finally {
        await p.stop();
      }
    });
  token.command('list')
    .description('list API tokens (never their secrets)')
    .option('--tenant <id>', 'only this tenant')
    .action(async (o: { tenant?: string }) => {
      const p = await ctx.openPlatform();
      try {
        for (const t of await p.services.tokens.list(o.tenant ?? null)) {
          const state = t.revokedAt !== null ? 'revoked' : t.expiresAt !== null && t.expiresAt <= Date.now() ? 'expired' : 'active';
          ctx.output.out(`${t.id}	${t.role}	${t.tenantId}	${state}	${t.name}`);
        }
      } finally {
        await p.stop();
      }
    });
}
