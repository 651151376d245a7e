import type { Command } from 'commander';
import type { CliContext } from '../context.ts';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  // Only the final newline is the terminal's; spaces may be part of a passphrase.
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** `medtrust user create|list`. */
export function registerUser(program: Command, ctx: CliContext, stdin: () => Promise<string> = readStdin): void {
  const user = program.command('user').description('people who log in to the dashboard');
  user.command('create')
    .description('create a user; prints a generated password once, or reads one from stdin')
    .requiredOption('--email <email>', 'login email')
    .requiredOption('--role <role>', 'role (docs/access.md)')
    .option('--tenant <id>', 'tenant id (default: the operator tenant)')
    .option('--password-stdin', 'read the password from stdin instead of generating one')
    .option('--json', 'print the user as JSON')
    .action(async (o: { email: string; role: string; tenant?: string; passwordStdin?: boolean; json?: boolean }) => {
      const password = o.passwordStdin ? await stdin() : undefined;
      const p = await ctx.openPlatform();
      try {
        const tenantId = o.tenant ?? (await p.services.tenants.ensureOperator());
        const u = await p.services.users.create({ tenantId, email: o.email, role: o.role, password, createdBy: 'cli' });
        if (o.json) ctx.output.out(JSON.stringify(u));
        else {
          ctx.output.out(u.id);
          if (u.password) ctx.output.out(`password (shown once): ${u.password}`);
        }
      } finally {
        await p.stop();
      }
    });
  user.command('list')
    .description('list users')
    .option('--tenant <id>', 'only this tenant')
    .action(async (o: { tenant?: string }) => {
      const p = await ctx.openPlatform();
      try {
        for (const u of await p.services.users.list(o.tenant ?? null)) ctx.output.out(`${u.id}\t${u.email}\t${u.role}\t${u.tenantId}`);
      } finally {
        await p.stop();
      }
    });
}
