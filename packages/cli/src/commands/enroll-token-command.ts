import type { Command } from 'commander';
import type { CliContext } from '../context.ts';

/** `medtrust enroll-token create`: a one-time EST enrolment secret for one device. */
export function registerEnrollToken(program: Command, ctx: CliContext): void {
  const cmd = program.command('enroll-token').description('one-time EST enrolment secrets (HTTP Basic)');
  cmd.command('create')
    .description('create a secret that enrols the device once over EST, and print it once')
    .requiredOption('--device <serial>', 'manufacturer serial number of the device')
    .option('--model <model>', 'device model, when the serial exists for several models')
    .option('--ttl-hours <h>', 'hours until it expires (default MEDTRUST_ENROLL_TOKEN_TTL_HOURS)', (v) => Number(v))
    .option('--json', 'print {"username":…,"password":…}')
    .action(async (o: { device: string; model?: string; ttlHours?: number; json?: boolean }) => {
      const p = await ctx.openPlatform();
      try {
        const device = await p.services.devices.getBySerial(o.device, o.model);
        const t = await p.services.enrollTokens.create({ deviceId: device.id, createdBy: 'cli', ttlHours: o.ttlHours });
        if (o.json) {
          ctx.output.out(JSON.stringify({ username: t.username, password: t.password }));
        } else {
          ctx.output.out(`device:   ${t.deviceId} (serial ${o.device})`);
          ctx.output.out(`username: ${t.username}`);
          ctx.output.out(`password: ${t.password}`);
          ctx.output.out(`expires:  ${new Date(t.expiresAt).toISOString()} (works once)`);
        }
      } finally {
        await p.stop();
      }
    });
}
