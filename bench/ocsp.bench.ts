// OCSP responder throughput over HTTP keep-alive with 16 concurrent requests, our responder (the
// whole `medtrust serve` platform in a child process, OCSP on its node:http fast path) against
// `openssl ocsp` running as a responder on the same machine, both driven by the same raw-socket
// load generator (ocsp-load.ts) in this process, so client and server are separate processes.
// Rows: cached responses (no nonce) and freshly signed ones (nonce), plus the encoder choice:
// hand-written DER against pkijs for building a response and parsing a request.
import 'reflect-metadata';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { loadConfig, Platform } from '@medtrust/server';
import { cpuSeconds, STARTUP_TIMEOUT_MS, waitForLine } from './bench-child.ts';
import type { BenchRow } from './bench-row.ts';
import { ocspLoad } from './ocsp-load.ts';
// Internal modules, measured directly for the encoder rows.
import { buildOcspResponse, parseOcspRequest } from '../packages/server/src/pki/ocsp/index.ts';

const CONCURRENCY = 16;
const WARMUP_MS = 1000;
const DURATION_MS = 5000;
const SELF = fileURLToPath(import.meta.url);

interface Load {
  readonly perSecond: number;
  readonly failed: number;
  readonly firstFailure?: string;
  readonly perCpuSecond: number | undefined;
  /** CPU-seconds per wall second of the responder and of the load generator: near 1.0 is one saturated core. */
  readonly serverCpuShare: number | undefined;
  readonly clientCpuShare: number;
}

/** CONCURRENCY keep-alive connections POSTing `body`; responses per second and per responder CPU-second. */
async function load(url: string, body: Buffer, durationMs: number, serverPid?: number): Promise<Load> {
  const target = new URL(url);
  const cpu0 = cpuSeconds(serverPid);
  const r = await ocspLoad({ host: target.hostname, port: Number(target.port), path: target.pathname, body, connections: CONCURRENCY, durationMs });
  const cpu1 = cpuSeconds(serverPid);
  const cpu = cpu0 === undefined || cpu1 === undefined ? undefined : cpu1 - cpu0;
  return {
    perSecond: r.ok / r.seconds, failed: r.failed, ...(r.firstFailure ? { firstFailure: r.firstFailure } : {}),
    perCpuSecond: cpu ? r.ok / cpu : undefined, serverCpuShare: cpu === undefined ? undefined : cpu / r.seconds, clientCpuShare: r.clientCpuSeconds / r.seconds,
  };
}

async function measure(url: string, body: Buffer, serverPid: number | undefined): Promise<Load> {
  await load(url, body, WARMUP_MS, serverPid);
  return load(url, body, DURATION_MS, serverPid);
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

const ossl = (dir: string, args: readonly string[]): string => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }).toString();

/** An openssl CA, delegated signer and leaf (P-256, as ours), its index.txt, and a request for the leaf. */
function opensslResponderFiles(dir: string): { args: string[]; requestDer: Buffer } {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  writeFileSync(join(dir, 'ext.cnf'), '[ocsp]\nextendedKeyUsage=OCSPSigning\nkeyUsage=critical,digitalSignature\n[leaf]\nkeyUsage=critical,digitalSignature\n');
  ossl(dir, ['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-subj', '/CN=Bench OpenSSL CA', '-days', '2']);
  ossl(dir, ['req', ...ec, '-keyout', 'signer.key', '-out', 'signer.csr', '-subj', '/CN=Bench OpenSSL OCSP']);
  ossl(dir, ['x509', '-req', '-in', 'signer.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', '0x0a01', '-out', 'signer.pem', '-days', '2', '-extfile', 'ext.cnf', '-extensions', 'ocsp']);
  ossl(dir, ['req', ...ec, '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=bench-leaf']);
  ossl(dir, ['x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', '0x1234', '-out', 'leaf.pem', '-days', '2', '-extfile', 'ext.cnf', '-extensions', 'leaf']);
  const exp = new Date(Date.now() + 2 * 86_400_000).toISOString().replace(/[-:T]/g, '').slice(2, 14);
  writeFileSync(join(dir, 'index.txt'), `V\t${exp}Z\t\t1234\tunknown\t/CN=bench-leaf\n`);
  ossl(dir, ['ocsp', '-issuer', 'ca.pem', '-cert', 'leaf.pem', '-no_nonce', '-reqout', 'oreq.der']);
  return { args: ['ocsp', '-index', 'index.txt', '-rsigner', 'signer.pem', '-rkey', 'signer.key', '-CA', 'ca.pem', '-nmin', '60', '-ignore_err'], requestDer: readFileSync(join(dir, 'oreq.der')) };
}

/** Builds and parses per second: our hand-written DER against pkijs, same inputs, fake signature. */
function encoderRates(requestDer: Buffer, signerDer: Buffer): { handBuild: number; pkijsBuild: number; handParse: number; pkijsParse: number } {
  const sig = Buffer.alloc(72, 1);
  const keyHash = Buffer.alloc(20, 2);
  const req = parseOcspRequest(requestDer);
  const certId = req.certIds[0]!;
  const signer = { keyHash, signatureAlgorithmDer: Buffer.from('300a06082a8648ce3d040302', 'hex'), certsDer: [signerDer], sign: () => sig };
  const signerCert = pkijs.Certificate.fromBER(new Uint8Array(signerDer));
  const alg = new pkijs.AlgorithmIdentifier({ algorithmId: '1.2.840.10045.4.3.2' });
  const rate = (f: () => void): number => {
    const n = 3000;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) f();
    return n / ((performance.now() - t0) / 1000);
  };
  const now = Date.now();
  const handBuild = rate(() => buildOcspResponse({ signer, producedAtMs: now, nonceExtnValue: req.nonceExtnValue, responses: [{ certIdDer: certId.der, status: { kind: 'good' }, thisUpdateMs: now, nextUpdateMs: now + 3_600_000 }] }));
  const pkijsBuild = rate(() => {
    const data = new pkijs.ResponseData({
      responderID: new asn1js.OctetString({ valueHex: keyHash }),
      producedAt: new Date(now),
      responses: [new pkijs.SingleResponse({ certID: pkijs.CertID.fromBER(new Uint8Array(certId.der)), certStatus: new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 0 } }), thisUpdate: new Date(now), nextUpdate: new Date(now + 3_600_000) })],
      ...(req.nonceExtnValue ? { responseExtensions: [new pkijs.Extension({ extnID: '1.3.6.1.5.5.7.48.1.2', extnValue: new Uint8Array(req.nonceExtnValue).buffer })] } : {}),
    });
    const tbs = (data.toSchema(true) as asn1js.Sequence).toBER();
    data.tbsView = new Uint8Array(tbs);
    const basic = new pkijs.BasicOCSPResponse({ tbsResponseData: data, signatureAlgorithm: alg, signature: new asn1js.BitString({ valueHex: sig }), certs: [signerCert] });
    new pkijs.OCSPResponse({ responseStatus: new asn1js.Enumerated({ value: 0 }), responseBytes: new pkijs.ResponseBytes({ responseType: '1.3.6.1.5.5.7.48.1.1', response: new asn1js.OctetString({ valueHex: (basic.toSchema()).toBER() }) }) }).toSchema().toBER();
  });
  const handParse = rate(() => parseOcspRequest(requestDer));
  const pkijsParse = rate(() => pkijs.OCSPRequest.fromBER(new Uint8Array(requestDer)));
  return { handBuild, pkijsBuild, handParse, pkijsParse };
}

export async function run(): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'medtrust-bench-ocsp-'));
  const env = { MEDTRUST_DATA_DIR: join(dir, 'data'), MEDTRUST_HTTP_PORT: '0', MEDTRUST_HTTPS_PORT: '0', MEDTRUST_MQTT_PORT: '0', MEDTRUST_LOG_LEVEL: 'error', MEDTRUST_MASTER_KEY: 'ocsp bench master key 0123' };
  const children: ChildProcess[] = [];
  try {
    // A certificate of ours, issued through the real platform before the server starts.
    const setup = await Platform.open({ config: loadConfig(env) });
    await setup.init();
    const leaf = await setup.services.issuer.issueTlsServer({ hostnames: ['bench.test'], ipAddresses: [], publicKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey });
    writeFileSync(join(dir, 'our-leaf.pem'), leaf.pem);
    writeFileSync(join(dir, 'our-ca.pem'), (await setup.services.cas.get('infrastructure')).certificatePem);
    const signerDer = (await setup.services.cas.ocspSigner('infrastructure')).certificateDer;
    await setup.stop();
    ossl(dir, ['ocsp', '-issuer', 'our-ca.pem', '-cert', 'our-leaf.pem', '-no_nonce', '-reqout', 'our-req.der']);
    ossl(dir, ['ocsp', '-issuer', 'our-ca.pem', '-cert', 'our-leaf.pem', '-nonce', '-reqout', 'our-nonce-req.der']);
    const ourReq = readFileSync(join(dir, 'our-req.der'));
    const ourNonceReq = readFileSync(join(dir, 'our-nonce-req.der'));

    const server = spawn(process.execPath, ['--import', 'tsx', SELF, '--serve'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(server);
    const ourUrl = `${(await waitForLine(server, /http:\/\/[\d.]+:\d+/, STARTUP_TIMEOUT_MS))}/ocsp`;
    const cached = await measure(ourUrl, ourReq, server.pid);
    const fresh = await measure(ourUrl, ourNonceReq, server.pid);
    // The floor: a bare node:http server that answers every POST with one fixed buffer (the cached
    // response's bytes). How close the fast path comes to it is what is left to tune in our code.
    const answer = await (async () => {
      const r = await fetch(ourUrl, { method: 'POST', headers: { 'content-type': 'application/ocsp-request' }, body: new Uint8Array(ourReq) });
      return Buffer.from(await r.arrayBuffer());
    })().catch(() => Buffer.alloc(0));
    server.kill('SIGTERM');

    const floorServer = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./baseline-servers.ts', import.meta.url)), 'fixed', answer.toString('hex')], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(floorServer);
    const floor = answer.length > 0 ? await measure(`${await waitForLine(floorServer, /http:\/\/[\d.]+:\d+/, STARTUP_TIMEOUT_MS)}/ocsp`, ourReq, floorServer.pid) : undefined;
    floorServer.kill('SIGTERM');

    const o = opensslResponderFiles(dir);
    const port = await freePort();
    const responder = spawn('openssl', [...o.args, '-port', String(port)], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(responder);
    await waitForLine(responder, /Waiting for OCSP client connections|ACCEPT/, 10_000).catch(() => new Promise((r) => setTimeout(r, 500)));
    // No warm-up run for openssl (nothing to warm up): openssl 3.0's responder spins and answers
    // nothing more once a client drops connections with requests in flight, as the end of a run does.
    const baseline = await load(`http://127.0.0.1:${port}/`, o.requestDer, DURATION_MS, responder.pid);
    responder.kill('SIGTERM');

    const enc = encoderRates(ourNonceReq, signerDer);
    const base = 'openssl ocsp responder (1 process), same load generator';
    const failures = [cached, fresh, baseline].filter((l) => l.failed > 0).map((l) => `${l.failed} failed (${l.firstFailure})`).join('; ');
    // How busy each side was: a responder near 1.0 CPU-s/s is saturated; a client near it sets the rate.
    const cpu = (l: Load): string => `responder ${l.serverCpuShare?.toFixed(2) ?? '?'} CPU-s/s, load generator ${l.clientCpuShare.toFixed(2)} CPU-s/s`;
    return [
      { name: 'cached responses/s, keep-alive, 16 connections', value: cached.perSecond, unit: 'resp/s', baseline: base, ratio: cached.perSecond / baseline.perSecond, note: `target >= 4x; ${cpu(cached)}${failures ? `; ${failures}` : ''}` },
      { name: 'freshly signed responses/s (nonce), 16 connections', value: fresh.perSecond, unit: 'resp/s', baseline: base, ratio: fresh.perSecond / baseline.perSecond, note: `every response ECDSA P-256 signed; ${cpu(fresh)}` },
      { name: 'openssl ocsp responder', value: baseline.perSecond, unit: 'resp/s', note: `signs every response; one process, HTTP/1.0 (a connection per request); ${cpu(baseline)}` },
      // Per CPU-second of the responder process: the same comparison, robust to other load on the machine.
      ...(floor ? [{ name: 'bare node:http server, fixed answer (floor)', value: floor.perSecond, unit: 'resp/s', note: `cached path reaches ${((cached.perCpuSecond ?? 0) / (floor.perCpuSecond ?? 1) * 100).toFixed(0)}% of its per-CPU-second rate; ${cpu(floor)}` }] : []),
      ...(cached.perCpuSecond && fresh.perCpuSecond && baseline.perCpuSecond ? [
        { name: 'cached responses per responder CPU-second', value: cached.perCpuSecond, unit: 'resp/cpu-s', baseline: 'openssl ocsp per CPU-second', ratio: cached.perCpuSecond / baseline.perCpuSecond },
        { name: 'fresh (nonce) responses per responder CPU-second', value: fresh.perCpuSecond, unit: 'resp/cpu-s', baseline: 'openssl ocsp per CPU-second', ratio: fresh.perCpuSecond / baseline.perCpuSecond },
      ] : []),
      { name: 'response build (DER by hand, signature excluded)', value: enc.handBuild, unit: 'ops/s', baseline: 'pkijs BasicOCSPResponse', ratio: enc.handBuild / enc.pkijsBuild },
      { name: 'request parse (DER by hand)', value: enc.handParse, unit: 'ops/s', baseline: 'pkijs OCSPRequest.fromBER', ratio: enc.handParse / enc.pkijsParse },
    ];
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

// Child mode: `node --import tsx bench/ocsp.bench.ts --serve` runs the platform and prints its URL.
if (process.argv[1] === SELF && process.argv[2] === '--serve') {
  const p = await Platform.open({ config: loadConfig(process.env) });
  const l = await p.start();
  process.stdout.write(`${l.httpUrl}\n`);
  process.on('SIGTERM', () => void p.stop().finally(() => process.exit(0)));
}
