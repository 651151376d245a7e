import type { EnrolAuth } from '@medtrust/device';
import { DEVICE_MODELS, kindAt, type SimDeviceKind, type SimEvent, SimulatedFleet, type SimProfile } from '@medtrust/device/sim';
import type { Output } from '../output.ts';
import { type FleetBundle, identityOf, kindOfModel } from './fleet-bundles.ts';

export interface SimulationOptions {
  readonly bundles: readonly FleetBundle[];
  readonly profile: SimProfile;
  readonly seed: string;
  readonly estUrl: string;
  readonly mqttUrl: string;
  readonly caPem: string;
  /** Offline queues live here (`<dir>/<serial>/`). */
  readonly dir: string;
  readonly backfillMs: number;
  readonly output: Output;
  /** Overrides the enrolment proof per device (default: its IDevID). */
  readonly authOf?: (b: FleetBundle) => Promise<EnrolAuth>;
  readonly firmwareOf?: (index: number, kind: SimDeviceKind) => string | undefined;
  readonly onEvent?: (e: SimEvent) => void;
  /** The platform's command-signing public key (PEM): pumps verify and execute signed commands. */
  readonly commandKeyPem?: string;
  /** Scripts the scenario (episodes, pump programmes) before the first reading is taken. */
  readonly prepare?: (fleet: SimulatedFleet) => void;
}

/**
 * Builds the fleet from factory bundles, enrols every device over EST and connects it; on a
 * terminal a status line (stderr) and one line per clinical event, nothing when piped.
 */
export async function startSimulation(o: SimulationOptions): Promise<{ fleet: SimulatedFleet; stop(): Promise<void> }> {
  const identities = await Promise.all(o.bundles.map(async (b) => (o.authOf ? { ...identityOf(b), auth: await o.authOf(b) } : identityOf(b))));
  const fleet = new SimulatedFleet({
    identities, profile: o.profile, seed: o.seed, estUrl: o.estUrl, mqttUrl: o.mqttUrl, caPem: o.caPem, dir: o.dir, backfillMs: o.backfillMs, commandKeyPem: o.commandKeyPem,
    kindOf: (i, id) => kindOfModel(id.model) ?? kindAt(o.profile, i),
    firmwareOf: o.firmwareOf ? (i, kind) => o.firmwareOf?.(i, kind) ?? DEVICE_MODELS[kind].firmwareVersion : undefined,
    onEvent: (e) => {
      if (o.output.isTty && e.atMs >= Date.now() - 1000) process.stderr.write(`\r\x1b[K${new Date(e.atMs).toISOString().slice(11, 19)} ${e.serial} ${e.kind}\n`);
      o.onEvent?.(e);
    },
  });
  const status = (): void => {
    if (!o.output.isTty) return;
    const s = fleet.stats();
    process.stderr.write(`\r\x1b[Kenrolled ${s.enrolled}/${s.devices}  connected ${s.connected}  offline ${s.offline}  sent ${s.published - s.pending}/${s.published}  queued ${s.pending}  refused ${s.refused}`);
  };
  o.prepare?.(fleet);
  await fleet.enrol(status);
  fleet.start();
  const timer = setInterval(status, 500);
  return {
    fleet,
    async stop() {
      clearInterval(timer);
      status();
      if (o.output.isTty) process.stderr.write('\n');
      await fleet.stop();
    },
  };
}

/** Waits until every queued reading is acknowledged or `timeoutMs` passes. */
export async function drain(fleet: SimulatedFleet, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (fleet.stats().pending > 0) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

/** One line for the end of a run (stdout, also when piped). */
export function summary(fleet: SimulatedFleet, profile: string, seed: string, ranMs: number): string {
  const s = fleet.stats();
  const events = Object.entries(s.events).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
  return `simulated ${s.devices} devices (profile ${profile}, seed ${seed}) for ${Math.round(ranMs / 1000)}s: enrolled ${s.enrolled}, readings ${s.published}, acknowledged ${s.published - s.pending}, queued ${s.pending}, refused ${s.refused}; events: ${events}`;
}
