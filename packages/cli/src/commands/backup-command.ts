import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createBackup, loadConfig, restoreBackup, serverMigrations } from '@medtrust/server';
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';

function passphrase(ctx: CliContext, file: string | undefined): string {
  const p = file ? readFileSync(file, 'utf8').trim() : ctx.env.MEDTRUST_BACKUP_PASSPHRASE;
  return p ?? '';
}

export function registerBackup(program: Command, ctx: CliContext): void {
  const backup = program.command('backup').description('encrypted, integrity-protected backups (docs/backup.md)');
  backup.command('create')
    .description('write a consistent snapshot (database, key store, secrets, artifacts) while the platform serves')
    .requiredOption('--out <file>', 'backup file to create (refuses to overwrite)')
    .option('--passphrase-file <file>', 'file holding the passphrase (default: MEDTRUST_BACKUP_PASSPHRASE)')
    .action(async (o: { out: string; passphraseFile?: string }) => {
      const p = await ctx.openPlatform();
      try {
        const s = p.services;
        const r = await createBackup({ db: s.db, dialect: s.dialect, dataDir: s.config.dataDir, passphrase: passphrase(ctx, o.passphraseFile), outFile: resolve(o.out) });
        await s.audit.append({ actor: 'cli', action: 'backup.created', details: { ...r, file: resolve(o.out) } });
        ctx.output.out(`backup written to ${resolve(o.out)}: ${r.tables} tables, ${r.rows} rows, ${r.files} files`);
      } finally {
        await p.stop();
      }
    });
  backup.command('restore')
    .description('rebuild an empty data dir (and database) from a backup; the file is verified before anything is written')
    .argument('<file>', 'backup file')
    .option('--passphrase-file <file>', 'file holding the passphrase (default: MEDTRUST_BACKUP_PASSPHRASE)')
    .action(async (file: string, o: { passphraseFile?: string }) => {
      const config = loadConfig(ctx.env);
      const r = await restoreBackup({ backup: readFileSync(file), passphrase: passphrase(ctx, o.passphraseFile), dataDir: config.dataDir, databaseUrl: config.databaseUrl, migrations: serverMigrations });
      ctx.output.out(`restored into ${config.dataDir}: ${r.tables} tables, ${r.rows} rows, ${r.files} files; run \`medtrust audit verify\` next`);
    });
}
