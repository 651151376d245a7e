import { CoreError } from '@medtrust/core';
import type { CertificateView } from '@medtrust/server';
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';

const ALL = { kind: 'all' } as const;
const STATUSES = ['valid', 'revoked', 'superseded'] as const;

function line(c: CertificateView): string {
  return [c.serial, c.caName.padEnd(14), c.profile.padEnd(11), c.status.padEnd(10), (c.deviceId ?? '-').padEnd(30), c.notAfter].join('  ');
}

/**
 * `medtrust cert revoke|show|list`: acts on the data dir directly; a running server hears a
 * revocation through the database event bus and re-issues its CRL and drops cached OCSP answers.
 */
export function registerCert(program: Command, ctx: CliContext): void {
  const cmd = program.command('cert').description('certificates: revoke, show, list');

  cmd.command('revoke')
    .description('revoke a certificate for an RFC 5280 reason')
    .argument('<serial>', 'serial number in hex (colons allowed)')
    .requiredOption('--reason <reason>', 'unspecified, keyCompromise, cACompromise, affiliationChanged, superseded, cessationOfOperation, certificateHold, privilegeWithdrawn or aACompromise')
    .option('--json', 'print the revocation as JSON')
    .action(async (serial: string, o: { reason: string; json?: boolean }) => {
      const p = await ctx.openPlatform();
      try {
        const r = await p.services.revocation.revoke(serial, o.reason, 'cli');
        const revokedAt = new Date(r.revokedAt).toISOString();
        ctx.output.out(o.json ? JSON.stringify({ serial: r.serial, caName: r.caName, deviceId: r.deviceId, reason: r.reason, revokedAt }) : `revoked ${r.serial} (${r.caName} CA) at ${revokedAt}: ${r.reason}`);
      } finally {
        await p.stop();
      }
    });

  cmd.command('show')
    .description('show one certificate with its PEM')
    .argument('<serial>', 'serial number in hex (colons allowed)')
    .option('--json', 'print it as JSON')
    .action(async (serial: string, o: { json?: boolean }) => {
      const p = await ctx.openPlatform();
      try {
        const c = await p.services.certificateQueries.get(serial, ALL);
        if (o.json) {
          ctx.output.out(JSON.stringify(c));
          return;
        }
        const rows: Array<[string, string | null]> = [
          ['serial', c.serial], ['ca', c.caName], ['profile', c.profile], ['subject', c.subject], ['device', c.deviceId], ['tenant', c.tenantId],
          ['not before', c.notBefore], ['not after', c.notAfter], ['status', c.status], ['revoked at', c.revokedAt], ['reason', c.revocationReason], ['superseded by', c.supersededBy],
        ];
        for (const [k, v] of rows) if (v !== null) ctx.output.out(`${`${k}:`.padEnd(15)}${v}`);
        ctx.output.out(c.pem.trimEnd());
      } finally {
        await p.stop();
      }
    });

  cmd.command('list')
    .description('list certificates, newest first')
    .option('--device <id>', 'only this device (registry id)')
    .option('--status <status>', `only this status (${STATUSES.join(', ')})`)
    .option('--limit <n>', 'at most this many (default 100, at most 1000)', (v) => Number(v))
    .option('--json', 'print a JSON array')
    .action(async (o: { device?: string; status?: string; limit?: number; json?: boolean }) => {
      if (o.status !== undefined && !(STATUSES as readonly string[]).includes(o.status)) throw new CoreError('REQUEST_INVALID', `--status must be one of ${STATUSES.join(', ')}`);
      if (o.limit !== undefined && !(Number.isInteger(o.limit) && o.limit >= 1 && o.limit <= 1000)) throw new CoreError('REQUEST_INVALID', '--limit must be an integer from 1 to 1000');
      const p = await ctx.openPlatform();
      try {
        const list = await p.services.certificateQueries.list({ deviceId: o.device, status: o.status as CertificateView['status'] | undefined, limit: o.limit }, ALL);
        if (o.json) {
          ctx.output.out(JSON.stringify(list));
          return;
        }
        for (const c of list) ctx.output.out(line(c));
      } finally {
        await p.stop();
      }
    });
}
