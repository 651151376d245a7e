import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { serverNames, writeMosquittoBundle } from '@medtrust/server';
import type { CliContext } from '../context.ts';

export function registerGateway(program: Command, ctx: CliContext): void {
  const gateway = program.command('gateway').description('device gateway (MQTT)');
  gateway.command('mosquitto-config')
    .description('write the files an external Mosquitto needs (CA bundle, CRL, server cert, ACLs, platform password) and print mosquitto.conf')
    .option('--dir <dir>', 'where to write the files (default: <data dir>/mosquitto)')
    .option('--port <n>', 'device listener port (TLS)', (v) => Number(v), 8883)
    .option('--bind <host>', 'device listener address', '0.0.0.0')
    .option('--platform-port <n>', 'loopback listener the platform consumes from', (v) => Number(v), 1884)
    .option('--run-as <user>', 'user Mosquitto runs as when started by root (must own the files written here)')
    .action(async (o: { dir?: string; port: number; bind: string; platformPort: number; runAs?: string }) => {
      const p = await ctx.openPlatform();
      try {
        const s = p.services;
        const dir = o.dir ?? join(s.config.dataDir, 'mosquitto');
        const names = serverNames(s.config.publicUrl, s.config.tlsHostnames, s.config.bindHost);
        const crl = await s.crls.get('operational');
        const bundle = await writeMosquittoBundle({
          dir, cas: s.cas, issuer: s.issuer, operationalCrlDer: crl.der, devicePort: o.port, deviceBindHost: o.bind, platformPort: o.platformPort, ...names, ...(o.runAs ? { runAsUser: o.runAs } : {}),
        });
        const urlFile = join(bundle.files.dir, 'platform-url');
        // The URL carries the platform's broker password: a file only the operator reads, not the terminal.
        writeFileSync(urlFile, `${bundle.platformUrl}\n`, { mode: 0o600 });
        await s.audit.append({ actor: 'cli', action: 'gateway.mosquitto-config', details: { dir: bundle.files.dir, devicePort: o.port } });
        ctx.output.out(bundle.conf);
        ctx.output.err(`files written to ${bundle.files.dir}; run: mosquitto -c ${bundle.confFile}`);
        ctx.output.err(`then start the platform with MEDTRUST_MQTT_URL=$(cat ${urlFile})`);
      } finally {
        await p.stop();
      }
    });
}
