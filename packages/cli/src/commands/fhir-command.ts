import type { Command } from 'commander';
import { checkFhirBaseUrl, FhirError } from '@medtrust/server';
import type { CliContext } from '../context.ts';

/** `medtrust fhir push configure|status`: a tenant's outbound FHIR push endpoint (docs/fhir.md). */
export function registerFhir(program: Command, ctx: CliContext): void {
  const push = program.command('fhir').description('FHIR R4 export').command('push').description('outbound push of Observations to a hospital EHR');
  push.command('configure')
    .description('set (or replace) the FHIR base URL a tenant\'s vitals are pushed to')
    .requiredOption('--tenant <id>', 'hospital tenant id')
    .requiredOption('--url <baseUrl>', 'FHIR base URL (https; http only to localhost)')
    // A credential on the command line would show in `ps` and shell history: it comes from the environment.
    .option('--authorization-env <name>', 'environment variable holding the Authorization header value sent to the EHR')
    .option('--from-start', 'also push the readings already stored')
    .option('--json', 'print the push status as JSON')
    .action(async (o: { tenant: string; url: string; authorizationEnv?: string; fromStart?: boolean; json?: boolean }) => {
      const u = checkFhirBaseUrl(o.url);
      const authorization = o.authorizationEnv === undefined ? undefined : ctx.env[o.authorizationEnv];
      if (o.authorizationEnv !== undefined && !authorization) throw new FhirError('FHIR_ENDPOINT_INVALID', `environment variable ${o.authorizationEnv} is empty or not set`);
      const p = await ctx.openPlatform();
      try {
        await p.services.tenants.get(o.tenant);
        await p.services.clinical.fhirPush.configure(o.tenant, u.toString(), authorization, 'cli', o.fromStart ?? false);
        const s = await p.services.clinical.fhirPush.status(o.tenant);
        ctx.output.out(o.json ? JSON.stringify(s) : `FHIR push for ${o.tenant} -> ${s?.baseUrl} (${authorization ? 'with' : 'without'} credential, backlog ${s?.backlog ?? 0})`);
      } finally {
        await p.stop();
      }
    });
  push.command('status')
    .description('where a tenant pushes, the backlog and the last error')
    .requiredOption('--tenant <id>', 'hospital tenant id')
    .option('--json', 'print as JSON')
    .action(async (o: { tenant: string; json?: boolean }) => {
      const p = await ctx.openPlatform();
      try {
        const s = await p.services.clinical.fhirPush.status(o.tenant);
        if (!s) throw new FhirError('FHIR_ENDPOINT_NOT_FOUND', `tenant ${o.tenant} has no FHIR push endpoint`);
        ctx.output.out(o.json ? JSON.stringify(s) : `${s.baseUrl}  backlog ${s.backlog}  last success ${s.lastSuccessAt === null ? 'never' : new Date(s.lastSuccessAt).toISOString()}  last error ${s.lastError ?? 'none'}`);
      } finally {
        await p.stop();
      }
    });
}
