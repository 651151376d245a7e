import type { Command } from 'commander';
import type { CliContext } from '../context.ts';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

const collect = (v: string, acc: string[]): string[] => [...acc, v];

/** `medtrust tenant create|list` and `tenant sso add|list|disable` (hospital single sign-on, docs/access.md). */
export function registerTenant(program: Command, ctx: CliContext, stdin: () => Promise<string> = readStdin): void {
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
  const sso = tenant.command('sso').description('OIDC identity providers for hospital single sign-on');
  sso.command('add')
    .description('add an identity provider to a tenant; the client secret is read from stdin (never a flag: it would show in the process list)')
    .requiredOption('--tenant <id>', 'the tenant whose users log in through it')
    .requiredOption('--name <name>', 'display name')
    .requiredOption('--issuer <url>', 'OIDC issuer (https; http only on loopback)')
    .requiredOption('--client-id <id>', 'client id registered at the provider')
    .requiredOption('--domain <domain>', 'allowed email domain (repeatable)', collect, [])
    .option('--role-claim <claim>', 'ID token / UserInfo claim whose values map to roles, e.g. groups')
    .option('--map <value=role>', 'claim value to role (repeatable)', collect, [])
    .option('--default-role <role>', 'role when no claim value maps')
    .option('--json', 'print the provider as JSON')
    .action(async (o: { tenant: string; name: string; issuer: string; clientId: string; domain: string[]; roleClaim?: string; map: string[]; defaultRole?: string; json?: boolean }) => {
      const clientSecret = await stdin();
      const roleMap = Object.fromEntries(o.map.map((m) => {
        const i = m.lastIndexOf('=');
        return [m.slice(0, i), m.slice(i + 1)];
      }));
      const p = await ctx.openPlatform();
      try {
        const v = await p.services.sso.providers.create(o.tenant, { name: o.name, issuer: o.issuer, clientId: o.clientId, clientSecret, allowedDomains: o.domain, roleClaim: o.roleClaim ?? null, roleMap, defaultRole: o.defaultRole ?? null }, 'cli');
        if (o.json) ctx.output.out(JSON.stringify({ ...v, redirectUri: p.services.sso.login.redirectUri }));
        else {
          ctx.output.out(v.id);
          ctx.output.out(`redirect URI to register at the provider: ${p.services.sso.login.redirectUri}`);
          ctx.output.out(`login link for users: ${new URL(`/api/v1/auth/oidc/${v.id}/login`, p.services.config.publicUrl).href}`);
        }
      } finally {
        await p.stop();
      }
    });
  sso.command('list')
    .description('list identity providers (never their secrets)')
    .option('--tenant <id>', 'only this tenant')
    .option('--json', 'one JSON object per line')
    .action(async (o: { tenant?: string; json?: boolean }) => {
      const p = await ctx.openPlatform();
      try {
        for (const v of await p.services.sso.providers.list(o.tenant ?? null)) {
          ctx.output.out(o.json ? JSON.stringify(v) : `${v.id}\t${v.tenantId}\t${v.enabled ? 'enabled' : 'disabled'}\t${v.issuer}\t${v.allowedDomains.join(',')}`);
        }
      } finally {
        await p.stop();
      }
    });
  sso.command('disable')
    .description('disable an identity provider: logins through it stop at once')
    .argument('<id>', 'provider id')
    .action(async (id: string) => {
      const p = await ctx.openPlatform();
      try {
        await p.services.sso.providers.disable(null, id, 'cli');
        ctx.output.out(`disabled ${id}`);
      } finally {
        await p.stop();
      }
    });
}
