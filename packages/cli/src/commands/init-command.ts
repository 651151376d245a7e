import { join } from 'node:path';
import { MASTER_KEY_FILE } from '@medtrust/server';
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';

export function registerInit(program: Command, ctx: CliContext): void {
  program.command('init').description('create the data dir, database, CA hierarchy and admin token (idempotent)')
    .option('--json', 'print {"dataDir","adminTokenPath","adminTokenCreated","cas":[{"name","subject","sha256Fingerprint","notAfter","created"}]}')
    .action(async (o: { json?: boolean }) => {
      const p = await ctx.openPlatform();
      try {
        const r = await p.init();
        if (o.json) {
          ctx.output.out(JSON.stringify({ dataDir: ctx.config().dataDir, adminTokenPath: r.adminTokenPath, adminTokenCreated: r.adminTokenCreated, cas: r.cas }));
          return;
        }
        ctx.output.out(`data dir: ${ctx.config().dataDir}`);
        ctx.output.out(r.adminTokenCreated ? `admin token written to ${r.adminTokenPath} (mode 0600)` : `admin token already at ${r.adminTokenPath}`);
        ctx.output.out(`key store: ${p.services.keyStore.kind}`);
        if (ctx.config().masterKey === undefined) ctx.output.out(`master key: generated in ${join(ctx.config().dataDir, MASTER_KEY_FILE)} (0600); set MEDTRUST_MASTER_KEY in production so keys and data dir are kept apart`);
        for (const ca of r.cas) {
          ctx.output.out(`${ca.created ? 'created' : 'exists '} ${ca.name.padEnd(26)} ${ca.subject}`);
          ctx.output.out(`        SHA-256 ${ca.sha256Fingerprint}  until ${new Date(ca.notAfter).toISOString().slice(0, 10)}`);
        }
      } finally {
        await p.stop();
      }
    });
}
