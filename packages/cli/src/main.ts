import { isMedTrustError } from '@medtrust/core';
import { Command, CommanderError } from 'commander';
import { registerAudit } from './commands/audit-command.ts';
import { registerCampaign } from './commands/campaign-command.ts';
import { registerBackup } from './commands/backup-command.ts';
import { registerCert } from './commands/cert-command.ts';
import { registerDemo } from './commands/demo-command.ts';
import { registerEnrollToken } from './commands/enroll-token-command.ts';
import { registerFactory } from './commands/factory-command.ts';
import { registerGateway } from './commands/gateway-command.ts';
import { registerInit } from './commands/init-command.ts';
import { registerRelease } from './commands/release-command.ts';
import { registerServe } from './commands/serve-command.ts';
import { registerSimulate } from './commands/simulate-command.ts';
import { registerTenant } from './commands/tenant-command.ts';
import { registerToken } from './commands/token-command.ts';
import { registerTuf } from './commands/tuf-command.ts';
import { registerUser } from './commands/user-command.ts';
import { registerFeed } from './commands/feed-command.ts';
import { registerSbom } from './commands/sbom-command.ts';
import { registerVuln } from './commands/vuln-command.ts';
import { registerPolicy } from './commands/policy-command.ts';
import { registerAdvisory } from './commands/advisory-command.ts';
import { registerReport } from './commands/report-command.ts';
import { registerFhir } from './commands/fhir-command.ts';
import { createContext } from './context.ts';
import { type Output, processOutput } from './output.ts';

/** Runs the `medtrust` command; returns the exit code. */
export async function main(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = process.env, output: Output = processOutput): Promise<number> {
  const ctx = createContext(env, output);
  const program = new Command('medtrust').description('MedTrust device trust platform').exitOverride()
    .configureOutput({ writeOut: (s) => output.out(s.trimEnd()), writeErr: (s) => output.err(s.trimEnd()) });
  registerInit(program, ctx);
  registerServe(program, ctx);
  registerGateway(program, ctx);
  registerToken(program, ctx);
  registerRelease(program, ctx);
  registerTuf(program, ctx);
  registerCampaign(program, ctx);
  registerAudit(program, ctx);
  registerTenant(program, ctx);
  registerUser(program, ctx);
  registerEnrollToken(program, ctx);
  registerDemo(program, ctx);
  registerSimulate(program, ctx);
  registerFactory(program, ctx);
  registerSbom(program, ctx);
  registerFeed(program, ctx);
  registerVuln(program, ctx);
  registerPolicy(program, ctx);
  registerAdvisory(program, ctx);
  registerReport(program, ctx);
  registerFhir(program, ctx);
  registerCert(program, ctx);
  registerBackup(program, ctx);
  try {
    await program.parseAsync([...argv]);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    if (isMedTrustError(e)) {
      output.err(`error ${e.code}: ${e.message}`);
      return 2;
    }
    output.err(`error: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}
