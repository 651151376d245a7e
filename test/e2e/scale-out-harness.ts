// Shared by the scale-out and outage tests: free ports, `medtrust serve` as a child process,
// an external Mosquitto from `medtrust gateway mosquitto-config`, devices with LDevIDs.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import type { Platform } from '../../packages/server/src/index.ts';
import { freePort, waitForPort } from './ports.ts';

export { freePort, waitForPort };

export const CLI = new URL('../../packages/cli/bin/medtrust.js', import.meta.url).pathname;

export async function eventually(f: () => Promise<boolean> | boolean, timeoutMs = 10_000, stepMs = 100): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await f()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return f();
}

export interface TestDevice { readonly id: string; readonly serial: string; readonly certPem: string; readonly keyPem: string }

/** Creates enrolled devices with LDevIDs issued from CSRs (keys by OpenSSL), as onboarding would. */
export async function makeDevices(p: Platform, tenantId: string, dir: string, serials: readonly string[]): Promise<TestDevice[]> {
  const out: TestDevice[] = [];
  for (const serial of serials) {
    const d = await p.services.devices.create({ serial, model: 'monitor-x', hardwareRevision: 'A', tenantId }, 'test');
    await p.services.devices.transition(d.id, 'enrolled', 'test');
    const keyFile = join(dir, `${serial}.key`);
    execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyFile]);
    const csr = execFileSync('openssl', ['req', '-new', '-key', keyFile, '-subj', `/CN=${d.id}`, '-outform', 'DER']);
    const issued = await p.services.issuer.issueLdevid({ deviceId: d.id, csrDer: csr, actor: 'test' });
    out.push({ id: d.id, serial: issued.serial, certPem: issued.pem, keyPem: readFileSync(keyFile, 'utf8') });
  }
  return out;
}

/** `medtrust serve` as a child process; resolves once it printed its URL. */
export async function startServe(env: Record<string, string>, timeoutMs = 240_000): Promise<ChildProcess> {
  const child = spawn(process.execPath, [CLI, 'serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${stderr}`)), timeoutMs);
    child.stdout.on('data', (b: Buffer) => {
      if (b.toString().includes('MedTrust')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${stderr}`)));
  }).catch((e: unknown) => {
    // A node that did not come up must not outlive the test.
    child.kill('SIGKILL');
    throw e;
  });
  return child;
}

export async function stopChild(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

export interface Mosquitto {
  readonly process: ChildProcess;
  readonly devicePort: number;
  /** MEDTRUST_MQTT_URL for the nodes (the platform listener with its password). */
  readonly platformUrl: string;
  readonly dir: string;
  readonly caPem: string;
  readonly crlFile: string;
  stop(): Promise<void>;
}

/** Runs the operator's command, then Mosquitto with exactly the config it printed. */
export async function startMosquitto(env: Record<string, string>, dir: string, ports?: { device: number; platform: number }): Promise<Mosquitto> {
  const devicePort = ports?.device ?? await freePort();
  const platformPort = ports?.platform ?? await freePort();
  const mdir = join(dir, 'mosquitto');
  const conf = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, [CLI, 'gateway', 'mosquitto-config', '--dir', mdir, '--port', String(devicePort), '--bind', '127.0.0.1', '--platform-port', String(platformPort), '--run-as', userInfo().username], { env, encoding: 'utf8' }, (err, stdout, stderr) => (err ? reject(new Error(`mosquitto-config: ${stderr}`)) : resolve(stdout)));
  });
  const confFile = join(dir, 'printed.conf');
  writeFileSync(confFile, conf);
  return runMosquitto(confFile, mdir, devicePort, platformPort);
}

/** Starts Mosquitto on a config written before (a restart keeps files, ports and password). */
export async function runMosquitto(confFile: string, mdir: string, devicePort: number, platformPort: number): Promise<Mosquitto> {
  const proc = spawn('mosquitto', ['-c', confFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr.on('data', (b: Buffer) => (err += b.toString()));
  await waitForPort(devicePort).catch((e: Error) => {
    throw new Error(`${e.message}: ${err}`);
  });
  await waitForPort(platformPort);
  return {
    process: proc, devicePort, dir: mdir, platformUrl: readFileSync(join(mdir, 'platform-url'), 'utf8').trim(),
    caPem: readFileSync(join(mdir, 'ca-bundle.pem'), 'utf8'), crlFile: join(mdir, 'operational.crl.pem'),
    stop: () => stopChild(proc),
  };
}

/** RFC 7468 PEM of a DER CRL, as Mosquitto's crlfile wants it. */
export function crlPem(der: Buffer): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN X509 CRL-----\n${b64}\n-----END X509 CRL-----\n`;
}

/** Scrapes one counter sample (all label sets matching `labels` summed) from /metrics. */
export async function metric(httpUrl: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

export function vitalsMessage(id: string, tsMs: number, vitals: Record<string, { value: number; unit: string }> = { heartRate: { value: 70, unit: '/min' } }): string {
  return JSON.stringify({ v: 1, id, ts: tsMs, kind: 'vitals', vitals });
}
