// EST simpleenroll over HTTPS with keep-alive, 16 concurrent clients, each a provisioned device
// authenticating with its IDevID. Baseline: the same load generator against a plain Node https
// server whose handler only signs the request body once with a P-256 key (the unavoidable crypto
// of an enrolment, without CSR checks, storage or audit). Also: certs-only PKCS#7 by hand vs pkijs.
// The platform (`medtrust serve` on the bench's data dir) and the baseline server each run in a
// child process; the load generator runs here, so it never shares the server's event loop.
import 'reflect-metadata';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as x509 from '@peculiar/x509';
import * as pkijs from 'pkijs';
import { loadConfig, Platform, pkcs7CertsOnly } from '@medtrust/server';
import type { BenchRow } from './bench-row.ts';
import { cpuSeconds, STARTUP_TIMEOUT_MS, waitForLine } from './bench-child.ts';
import { runLoad, type LoadClient, type LoadResult } from './est-load.ts';

const CLIENTS = 16;
const DURATION_MS = 8000;
// Enough that the time, not the CSRs, ends the EST run (about 340 enrolments/s x 8 s on 2 cores).
const CSRS_PER_CLIENT = 400;
const SELF = fileURLToPath(import.meta.url);
const BASELINES = fileURLToPath(new URL('./baseline-servers.ts', import.meta.url));

async function makeCsrs(n: number): Promise<string[]> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const keys = await crypto.subtle.generateKey(alg, true, ['sign', 'verify']);
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=bench', keys, signingAlgorithm: alg });
    out.push(Buffer.from(csr.rawData).toString('base64'));
  }
  return out;
}

/** Each client's own slice of the CSRs; `cycle` (the sign-only baseline, which stores nothing) reuses them so its run lasts the full time too. */
function clientsFrom(csrs: readonly string[], ids: ReadonlyArray<{ cert?: string; key?: string }>, cycle = false): LoadClient[] {
  return ids.map((id, c) => {
    const start = c * CSRS_PER_CLIENT;
    let i = start;
    const end = start + CSRS_PER_CLIENT;
    const next = (): string | undefined => {
      if (i >= end) {
        if (!cycle) return undefined;
        i = start;
      }
      return csrs[i++];
    };
    return { ...id, next };
  });
}

function pkcs7Rates(certs: readonly Buffer[]): { hand: number; lib: number } {
  // About one second each, however fast or slow the encoder is.
  const time = (f: () => void): number => {
    let n = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < 1000) {
      for (let i = 0; i < 10; i++) f();
      n += 10;
    }
    return n / ((performance.now() - t0) / 1000);
  };
  const hand = time(() => pkcs7CertsOnly(certs));
  const lib = time(() => {
    const sd = new pkijs.SignedData({ version: 1, encapContentInfo: new pkijs.EncapsulatedContentInfo({ eContentType: '1.2.840.113549.1.7.1' }), certificates: certs.map((d) => pkijs.Certificate.fromBER(new Uint8Array(d))) });
    new pkijs.ContentInfo({ contentType: pkijs.ContentInfo.SIGNED_DATA, content: sd.toSchema(true) }).toSchema().toBER();
  });
  return { hand, lib };
}

interface Measured { readonly load: LoadResult; readonly serverCpuShare: number | undefined }

/** Runs the load against a server child and reads how much CPU the child used meanwhile. */
async function measure(child: ChildProcess, url: string, clients: LoadClient[], caPem: string): Promise<Measured> {
  const cpu0 = cpuSeconds(child.pid);
  const t0 = performance.now();
  const load = await runLoad({ url, caPem, clients, durationMs: DURATION_MS });
  const cpu1 = cpuSeconds(child.pid);
  return { load, serverCpuShare: cpu0 === undefined || cpu1 === undefined ? undefined : (cpu1 - cpu0) / ((performance.now() - t0) / 1000) };
}

const cpuNote = (m: Measured): string => `server ${m.serverCpuShare?.toFixed(2) ?? '?'} CPU-s/s, load generator ${m.load.clientCpuShare.toFixed(2)} CPU-s/s`;

export async function run(): Promise<BenchRow[]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'medtrust-bench-est-'));
  const env = { MEDTRUST_DATA_DIR: dataDir, MEDTRUST_HTTP_PORT: '0', MEDTRUST_HTTPS_PORT: '0', MEDTRUST_MQTT_PORT: '0', MEDTRUST_LOG_LEVEL: 'error' };
  const children: ChildProcess[] = [];
  try {
    // Devices, their IDevIDs and a TLS certificate for the baseline, made before any server runs.
    const setup = await Platform.open({ config: loadConfig(env) });
    let rootPem: string;
    let devices: Array<{ cert: string; key: string }>;
    let chain: readonly Buffer[];
    let tlsPem: string;
    try {
      await setup.init();
      rootPem = (await setup.services.cas.get('root')).certificatePem;
      devices = await provisionBenchDevices(setup, CLIENTS);
      chain = (await setup.services.cas.get('operational')).chainDer;
      // The baseline serves with a certificate of the same kind (P-256, same chain) as the listener.
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const tls = await setup.services.issuer.issueTlsServer({ hostnames: ['localhost'], ipAddresses: ['127.0.0.1'], publicKey });
      writeFileSync(join(dataDir, 'baseline-key.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
      writeFileSync(join(dataDir, 'baseline-chain.pem'), tls.chainPem);
      tlsPem = tls.pem;
    } finally {
      await setup.stop();
    }
    const csrs = await makeCsrs(CLIENTS * CSRS_PER_CLIENT);

    const server = spawn(process.execPath, ['--import', 'tsx', SELF, '--serve'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(server);
    const httpsUrl = (await waitForLine(server, /https:\/\/[\d.]+:\d+/, STARTUP_TIMEOUT_MS)).replace('127.0.0.1', 'localhost');
    const est = await measure(server, `${httpsUrl}/.well-known/est/simpleenroll`, clientsFrom(csrs, devices), rootPem);
    server.kill('SIGTERM');
    if (est.load.failed > 0) throw new Error(`EST bench: ${est.load.failed} failed requests, first: ${est.load.firstFailure}`);

    const signer = spawn(process.execPath, ['--import', 'tsx', BASELINES, 'sign', join(dataDir, 'baseline-key.pem'), join(dataDir, 'baseline-chain.pem')], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(signer);
    const baseUrl = (await waitForLine(signer, /https:\/\/localhost:\d+/, STARTUP_TIMEOUT_MS));
    const base = await measure(signer, `${baseUrl}/`, clientsFrom(csrs.slice().reverse(), Array.from({ length: CLIENTS }, () => ({})), true), rootPem);
    signer.kill('SIGTERM');

    const leaf = Buffer.from(new X509Certificate(tlsPem).raw);
    const p7 = pkcs7Rates([leaf]);
    const p7chain = pkcs7Rates(chain);
    const e = est.load;
    return [
      { name: `simpleenroll, ${CLIENTS} clients, keep-alive (IDevID auth)`, value: e.perSecond, unit: 'enrolments/s', baseline: `https server doing one P-256 sign per request: ${base.load.perSecond.toFixed(0)} req/s`, ratio: e.perSecond / base.load.perSecond, note: `${e.ok} enrolments in ${(e.ok / e.perSecond).toFixed(1)} s (of ${CLIENTS * CSRS_PER_CLIENT} CSRs made; all used means the CSRs, not the time, ended the run); ${cpuNote(est)}` },
      { name: 'simpleenroll p99 latency', value: e.p99Ms, unit: 'ms', baseline: `sign-only https server p99 ${base.load.p99Ms.toFixed(1)} ms`, ratio: e.p99Ms / base.load.p99Ms, note: `p50 ${e.p50Ms.toFixed(1)} ms; ratio: lower is better; baseline ${cpuNote(base)}` },
      { name: 'certs-only PKCS#7, 1 cert (by hand)', value: p7.hand, unit: 'encodes/s', baseline: `pkijs ${p7.lib.toFixed(0)}/s`, ratio: p7.hand / p7.lib },
      { name: 'certs-only PKCS#7, cacerts chain (by hand)', value: p7chain.hand, unit: 'encodes/s', baseline: `pkijs ${p7chain.lib.toFixed(0)}/s`, ratio: p7chain.hand / p7chain.lib, note: 'cacerts is also cached per process' },
    ];
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Registers devices and issues each an IDevID for a generated key; each bench client is one of them. */
async function provisionBenchDevices(platform: Platform, n: number): Promise<Array<{ cert: string; key: string }>> {
  const s = platform.services;
  const tenantId = await s.tenants.ensureOperator();
  const out: Array<{ cert: string; key: string }> = [];
  for (let i = 0; i < n; i++) {
    const serial = `BENCH${String(i).padStart(4, '0')}`;
    const device = await s.devices.create({ serial, model: 'BenchPump', hardwareRevision: 'A', tenantId }, 'bench');
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const idevid = await s.issuer.issueIdevid({ device: { id: device.id, serial, model: 'BenchPump', hardwareRevision: 'A' }, publicKey, actor: 'bench' });
    out.push({ cert: idevid.pem, key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string });
  }
  return out;
}

// Child mode: `--serve` runs the platform on the bench's data dir (env) and prints its HTTPS URL.
if (process.argv[1] === SELF && process.argv[2] === '--serve') {
  const p = await Platform.open({ config: loadConfig(process.env) });
  const l = await p.start();
  process.stdout.write(`${l.httpsUrl}\n`);
  process.on('SIGTERM', () => void p.stop().finally(() => process.exit(0)));
}
