import { createWriteStream } from 'node:fs';
import { hostname } from 'node:os';
import { once } from 'node:events';
import { AuditError, buildInclusionProof, checkpointJson, describeProblem, entryPages, formatEntry, parseExportFormat, proofToJson, verifyAuditLog, verifyInclusionProof, keyIdOf } from '@medtrust/server';
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';

const positiveInt = (name: string) => (v: string): number => {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new AuditError('AUDIT_ENTRY_NOT_FOUND', `${name} must be a non-negative integer`);
  return n;
};

/** `medtrust audit verify|checkpoint|proof|export`. */
export function registerAudit(program: Command, ctx: CliContext): void {
  const audit = program.command('audit').description('tamper-evident audit log');

  audit.command('verify')
    .description('verify the hash chain and every signed checkpoint; exits non-zero at the first bad entry')
    .option('--json', 'print the report as JSON')
    .action(async (o: { json?: boolean }) => {
      const p = await ctx.openPlatform();
      try {
        const report = await verifyAuditLog({ db: p.services.db, trustedKeys: () => p.services.auditKeys.trusted() });
        if (o.json) ctx.output.out(JSON.stringify(report.ok ? report : { ...report, description: describeProblem(report.problem) }));
        if (report.ok) {
          if (!o.json) ctx.output.out(`ok: ${report.entries} entries, ${report.checkpoints} signed checkpoints verified (latest covers ${report.latestCheckpoint ?? 0})`);
          return;
        }
        if (!o.json) ctx.output.out(`FAILED at seq ${report.problem.seq} (${report.problem.kind}): ${describeProblem(report.problem)}`);
        throw new AuditError('AUDIT_TAMPERED', describeProblem(report.problem), { details: { ...report.problem } });
      } finally {
        await p.stop();
      }
    });

  audit.command('checkpoint')
    .description('sign a Merkle checkpoint over the log now')
    .action(async () => {
      const p = await ctx.openPlatform();
      try {
        const cp = await p.services.auditCheckpoints.create();
        if (!cp) throw new AuditError('AUDIT_NO_CHECKPOINT', 'the log is empty');
        ctx.output.out(JSON.stringify(checkpointJson(cp)));
      } finally {
        await p.stop();
      }
    });

  audit.command('proof')
    .description('print an RFC 9162 inclusion proof of one entry against the latest checkpoint, and check it')
    .requiredOption('--seq <n>', 'the entry', positiveInt('--seq'))
    .option('--json', 'print the proof as JSON')
    .action(async (o: { seq: number; json?: boolean }) => {
      const p = await ctx.openPlatform();
      try {
        const proof = await buildInclusionProof(p.services.db, o.seq);
        const key = (await p.services.auditKeys.trusted()).find((k) => keyIdOf(k) === proof.checkpoint.keyId);
        const check = key ? verifyInclusionProof(proof, key) : ({ ok: false, reason: 'checkpoint-signature-invalid' } as const);
        if (o.json) {
          ctx.output.out(JSON.stringify({ ...proofToJson(proof), verified: check.ok }));
        } else {
          ctx.output.out(`entry ${proof.entry.seq} (leaf index ${proof.leafIndex}) in tree of ${proof.checkpoint.treeSize}`);
          ctx.output.out(`root ${proof.checkpoint.rootHash.toString('hex')} signed by ${proof.checkpoint.keyId}`);
          proof.auditPath.forEach((h, i) => ctx.output.out(`path[${i}] ${h.toString('hex')}`));
          ctx.output.out(check.ok ? 'verified: yes' : `verified: NO (${check.reason})`);
        }
        if (!check.ok) throw new AuditError('AUDIT_TAMPERED', `inclusion proof does not verify: ${check.reason}`, { details: { seq: o.seq, kind: check.reason } });
      } finally {
        await p.stop();
      }
    });

  audit.command('export')
    .description('export entries as JSON lines or RFC 5424 syslog lines')
    .requiredOption('--format <format>', 'jsonl or syslog')
    .option('--since <seq>', 'only entries after this seq', positiveInt('--since'))
    .option('--out <file>', 'write to a file (mode 0600) instead of stdout')
    .action(async (o: { format: string; since?: number; out?: string }) => {
      const format = parseExportFormat(o.format);
      const p = await ctx.openPlatform();
      const file = o.out === undefined ? undefined : createWriteStream(o.out, { mode: 0o600 });
      try {
        const host = { hostname: hostname(), procId: String(process.pid) };
        for await (const e of entryPages(p.services.db, { afterSeq: o.since ?? 0 })) {
          const line = formatEntry(format, e, host);
          if (!file) ctx.output.out(line);
          else if (!file.write(`${line}\n`)) await once(file, 'drain');
        }
      } finally {
        if (file) await new Promise<void>((resolve, reject) => file.end((e?: Error | null) => (e ? reject(e) : resolve())));
        await p.stop();
      }
    });
}
