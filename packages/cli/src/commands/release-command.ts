import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';

const collect = (v: string, prev: string[]): string[] => [...prev, v];

interface ReleaseLike {
  readonly id: string;
  readonly state: string;
  readonly version: string;
  readonly models: readonly string[];
  readonly sha256: string;
}

function line(r: ReleaseLike): string {
  return `${r.id} ${r.state} ${r.models.join(',')} ${r.version} sha256:${r.sha256}`;
}

/**
 * `medtrust release ...`: acts on the data dir directly, as the local operator (actor `cli`).
 * `publish` approves a draft first: whoever holds the data dir and key store already holds
 * every release permission, so a second step would add no control (docs/updates.md).
 */
export function registerRelease(program: Command, ctx: CliContext): void {
  const release = program.command('release').description('firmware releases and their TUF publication');
  release.command('create')
    .description('upload a firmware artifact as a draft release')
    .requiredOption('--model <model>', 'device model it fits (repeatable)', collect, [])
    .requiredOption('--version <version>', 'semver (1.2.3) or an integer counter')
    .requiredOption('--file <path>', 'firmware artifact')
    .option('--sbom <path>', 'SBOM file, stored with the release')
    .option('--hw-rev <rev>', 'hardware revision it fits (repeatable; none = all)', collect, [])
    .option('--notes <text>', 'release notes', '')
    .option('--json', 'print the release as JSON')
    .action(async (o: { model: string[]; version: string; file: string; sbom?: string; hwRev: string[]; notes: string; json?: boolean }) => {
      const p = await ctx.openPlatform();
      try {
        const tenantId = await p.services.tenants.ensureOperator();
        const releases = p.services.updates.releases;
        let r = await releases.create({ tenantId, models: o.model, version: o.version, fileName: basename(o.file), hardwareRevisions: o.hwRev, notes: o.notes, artifact: createReadStream(o.file), actor: 'cli' });
        if (o.sbom) r = await releases.attachSbom(r.id, createReadStream(o.sbom), basename(o.sbom), 'cli');
        ctx.output.out(o.json ? JSON.stringify(r) : line(r));
      } finally {
        await p.stop();
      }
    });
  for (const action of ['approve', 'publish', 'withdraw'] as const) {
    release.command(`${action} <id>`)
      .description(action === 'publish' ? 'publish a release into the TUF repository (approves a draft first)' : `${action} a release`)
      .option('--json', 'print the release as JSON')
      .action(async (id: string, o: { json?: boolean }) => {
        const p = await ctx.openPlatform();
        try {
          const releases = p.services.updates.releases;
          if (action === 'publish' && (await releases.get(id)).state === 'draft') await releases.transition(id, 'approve', 'cli');
          const r = await releases.transition(id, action, 'cli');
          ctx.output.out(o.json ? JSON.stringify(r) : line(r));
        } finally {
          await p.stop();
        }
      });
  }
  release.command('authorise-downgrade <id>')
    .description('let the named devices install this release even though it is lower than theirs')
    .requiredOption('--device <id>', 'device id (repeatable)', collect, [])
    .option('--json', 'print the release as JSON')
    .action(async (id: string, o: { device: string[]; json?: boolean }) => {
      const p = await ctx.openPlatform();
      try {
        const r = await p.services.updates.releases.authoriseDowngrade(id, o.device, 'cli');
        ctx.output.out(o.json ? JSON.stringify(r) : line(r));
      } finally {
        await p.stop();
      }
    });
  release.command('list')
    .description('list releases')
    .option('--model <model>', 'only this model')
    .option('--json', 'print JSON')
    .action(async (o: { model?: string; json?: boolean }) => {
      const p = await ctx.openPlatform();
      try {
        const list = await p.services.updates.releases.list({ model: o.model });
        if (o.json) ctx.output.out(JSON.stringify(list));
        else for (const r of list) ctx.output.out(line(r));
      } finally {
        await p.stop();
      }
    });
}
