import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CoreError } from '@medtrust/core';
import type { EnrolAuth } from '@medtrust/device';
import { isSimProfileName, SeededRandom, simProfile, SIM_PROFILES, type SimulatedFleet } from '@medtrust/device/sim';
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { progress } from '../output.ts';
import { type FleetBundle, parseDuration, provisionFleet, readBundles } from '../sim/fleet-bundles.ts';
import { drain, startSimulation, summary } from '../sim/run-simulation.ts';

interface SimulateOptions {
  devices: string;
  profile: string;
  url?: string;
  mqttUrl?: string;
  duration?: string;
  seed: string;
  backfill: string;
  fleetDir?: string;
  factoryDir?: string;
  ca?: string;
  enrol: string;
  commandKey?: string;
  outage: string[];
  event: string[];
}

const EPISODES = ['desaturation', 'bradycardia', 'hypoglycaemia'] as const;
type Episode = (typeof EPISODES)[number];

/** `medtrust simulate`: a fleet of simulated devices onboarded over EST and reporting over MQTT. */
export function registerSimulate(program: Command, ctx: CliContext): void {
  program.command('simulate')
    .description('simulate infusion pumps, patient monitors and glucose monitors: factory-provisioned, enrolled over EST, reporting over mTLS MQTT (Ctrl-C stops)')
    .option('--devices <n>', 'how many devices', '10')
    .option('--profile <p>', `care setting: ${SIM_PROFILES.join(', ')}`, 'icu')
    .option('--url <url>', 'EST / device HTTPS base URL (default https://localhost:<MEDTRUST_HTTPS_PORT>)')
    .option('--mqtt-url <url>', 'MQTT broker (default mqtts://localhost:<MEDTRUST_MQTT_PORT>)')
    .option('--duration <d>', 'stop after this long (30s, 5m, 2h); default: until Ctrl-C')
    .option('--seed <s>', 'same seed, same readings and events', '1')
    .option('--backfill <d>', 'history to record before connecting (sent as an offline replay with its original timestamps)', '0')
    .option('--fleet-dir <dir>', 'device bundles and offline queues (default <data dir>/sim/<profile>); missing devices are factory-provisioned into it')
    .option('--factory-dir <dir>', 'use the bundles `medtrust factory provision --out` wrote instead of provisioning (no data dir needed)')
    .option('--ca <file>', 'trust anchor for the platform\'s TLS (default: the root of the platform, or of the bundles\' chain)')
    .option('--enrol <how>', 'EST authentication: idevid (birth certificate over TLS) or secret (one-time enrolment secret)', 'idevid')
    .option('--command-key <file>', 'pin the platform\'s command-signing key (GET /pki/command-signing-key.pem): pumps then verify and execute signed commands')
    .option('--outage <at+length>', 'cut one device\'s network at <at> into the run for <length>, e.g. 10s+20s (repeatable)', collect, [])
    .option('--event <kind@at>', `start an episode on one device at <at> into the run: ${EPISODES.join(', ')} (repeatable)`, collect, [])
    .action(async (o: SimulateOptions) => {
      const count = Number(o.devices);
      if (!Number.isInteger(count) || count < 1 || count > 10_000) throw new CoreError('REQUEST_INVALID', '--devices must be 1-10000');
      if (!isSimProfileName(o.profile)) throw new CoreError('REQUEST_INVALID', `--profile must be one of ${SIM_PROFILES.join(', ')}`);
      if (o.enrol !== 'idevid' && o.enrol !== 'secret') throw new CoreError('REQUEST_INVALID', '--enrol must be idevid or secret');
      if (o.factoryDir && o.enrol === 'secret') throw new CoreError('REQUEST_INVALID', '--enrol secret needs the data dir (it creates the secrets); drop --factory-dir');
      const profile = simProfile(o.profile);
      const durationMs = o.duration === undefined ? undefined : parseDuration(o.duration, '--duration');
      const backfillMs = parseDuration(o.backfill, '--backfill');
      if (backfillMs > 24 * 3_600_000) throw new CoreError('REQUEST_INVALID', '--backfill must be at most 24h (the platform keeps a 7-day window, the queue is on disk)');
      const outages = o.outage.map(parseOutage);
      const episodes = o.event.map(parseEpisode);
      const config = ctx.config();

      let bundles: FleetBundle[];
      let caPem: string | undefined = o.ca ? readFileSync(o.ca, 'utf8') : undefined;
      let authOf: ((b: FleetBundle) => Promise<EnrolAuth>) | undefined;
      let dir: string;
      let closePlatform: (() => Promise<void>) | undefined;
      if (o.factoryDir) {
        dir = resolve(o.fleetDir ?? o.factoryDir);
        bundles = readBundles(o.factoryDir).slice(0, count);
        if (bundles.length < count) throw new CoreError('REQUEST_INVALID', `--factory-dir holds ${bundles.length} device bundles with keys; --devices is ${count}`);
        caPem ??= lastCertificate(bundles[0]!.chainPem);
      } else {
        // This process is the factory station: it opens the data dir for the Manufacturing CA.
        const p = await ctx.openPlatform();
        closePlatform = () => p.stop();
        try {
          const s = p.services;
          await s.cas.init();
          dir = resolve(o.fleetDir ?? join(config.dataDir, 'sim', profile.name));
          const bar = progress(ctx.output, 'factory provisioning', count);
          bundles = await provisionFleet(p, { dir, count, profile, tenantId: await s.tenants.ensureOperator(), onProgress: () => bar.tick() });
          bar.done();
          caPem ??= (await s.cas.get('root')).certificatePem;
          if (o.enrol === 'secret') {
            authOf = async (b) => {
              const t = await s.enrollTokens.create({ deviceId: b.id, createdBy: 'simulator' });
              return { kind: 'secret', username: t.username, password: t.password };
            };
          }
        } catch (e) {
          await p.stop();
          throw e;
        }
      }
      const estUrl = o.url ?? portUrl('https', config.httpsPort, '--url');
      const mqttUrl = o.mqttUrl ?? portUrl('mqtts', config.mqttPort, '--mqtt-url');

      const started = Date.now();
      let sim: Awaited<ReturnType<typeof startSimulation>>;
      try {
        sim = await startSimulation({ bundles, profile, seed: o.seed, estUrl, mqttUrl, caPem, dir, backfillMs, output: ctx.output, authOf, commandKeyPem: o.commandKey ? readFileSync(o.commandKey, 'utf8') : undefined });
      } finally {
        // Enrolment secrets are made; the database is the platform's again.
        await closePlatform?.();
      }
      const timers = schedule(sim.fleet, o.seed, outages, episodes);
      await new Promise<void>((done) => {
        const stop = (): void => done();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        if (durationMs !== undefined) timers.push(setTimeout(stop, durationMs));
      });
      for (const t of timers) clearTimeout(t);
      await drain(sim.fleet, 5_000);
      await sim.stop();
      ctx.output.out(summary(sim.fleet, profile.name, o.seed, Date.now() - started));
    });
}

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

function parseOutage(v: string): { atMs: number; lengthMs: number } {
  const [at, length] = v.split('+');
  if (at === undefined || length === undefined) throw new CoreError('REQUEST_INVALID', '--outage must be <at>+<length>, e.g. 10s+20s');
  return { atMs: parseDuration(at, '--outage'), lengthMs: parseDuration(length, '--outage') };
}

function parseEpisode(v: string): { kind: Episode; atMs: number } {
  const [kind, at] = v.split('@');
  if (!EPISODES.includes(kind as Episode) || at === undefined) throw new CoreError('REQUEST_INVALID', `--event must be <kind>@<at> with kind ${EPISODES.join(', ')}`);
  return { kind: kind as Episode, atMs: parseDuration(at, '--event') };
}

function portUrl(scheme: string, port: number, option: string): string {
  if (port === 0) throw new CoreError('REQUEST_INVALID', `the platform port is chosen at start (0): give ${option}`);
  return `${scheme}://localhost:${port}`;
}

function lastCertificate(chainPem: string): string {
  const certs = chainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
  const root = certs.at(-1);
  if (!root) throw new CoreError('REQUEST_INVALID', 'the bundle chain.pem holds no certificate; give --ca');
  return root;
}

/** Scripted outages and episodes, each on a device the seed picks (one that can show it). */
function schedule(fleet: SimulatedFleet, seed: string, outages: ReadonlyArray<{ atMs: number; lengthMs: number }>, episodes: ReadonlyArray<{ kind: Episode; atMs: number }>): NodeJS.Timeout[] {
  const rng = new SeededRandom(seed).fork('script');
  const timers: NodeJS.Timeout[] = [];
  for (const x of outages) {
    const d = rng.pick(fleet.devices);
    timers.push(setTimeout(() => d.outage(Date.now(), x.lengthMs), x.atMs));
  }
  for (const x of episodes) {
    const fits = fleet.devices.filter((d) => (x.kind === 'hypoglycaemia' ? d.model.kind === 'glucose-monitor' : d.model.kind === 'patient-monitor'));
    if (fits.length === 0) throw new CoreError('REQUEST_INVALID', `no device in this fleet can show ${x.kind}`);
    const d = rng.pick(fits);
    timers.push(setTimeout(() => d.trigger(x.kind, Date.now()), x.atMs));
  }
  return timers;
}
