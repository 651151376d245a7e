// EST simpleenroll over HTTPS with keep-alive, 16 concurrent clients, each a provisioned device
// authenticating with its IDevID. Baseline: the same load generator against a plain Node https
// server whose handler only signs the request body once with a P-256 key (the unavoidable crypto
// of an enrolment, without CSR checks, storage or audit). Also: certs-only PKCS#7 by hand vs pkijs.
import 'reflect-metadata';
import { generateKeyPairSync, sign, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import * as pkijs from 'pkijs';
import { loadConfig, Platform, pkcs7CertsOnly } from '@medtrust/server';
import type { BenchRow } from './bench-row.ts';
import { runLoad, type LoadClient } from './est-load.ts';

const CLIENTS = 16;
const DURATION_MS = 8000;
const CSRS_PER_CLIENT = 120;

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

function clientsFrom(csrs: readonly string[], ids: ReadonlyArray<{ cert?: string; key?: string }>): LoadClient[] {
  return ids.map((id, c) => {
    let i = c * CSRS_PER_CLIENT;
    const end = i + CSRS_PER_CLIENT;
    return { ...id, next: () => (i < end ? csrs[i++] : undefined) };
  });
}

async function baseline(csrs: readonly string[], serverKeyPem: string, serverCertPem: string, caPem: string): Promise<{ perSecond: number; p99Ms: number }> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const server = createServer({ key: serverKeyPem, cert: serverCertPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const sig = sign('sha256', Buffer.concat(chunks), privateKey);
      res.writeHead(200, { 'content-type': 'application/pkcs7-mime' }).end(sig.toString('base64'));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const port = (server.address() as AddressInfo).port;
    return await runLoad({ url: `https://localhost:${port}/`, caPem, clients: clientsFrom(csrs, Array.from({ length: CLIENTS }, () => ({}))), durationMs: DURATION_MS });
  } finally {
    server.close();
  }
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

export async function run(): Promise<BenchRow[]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'medtrust-bench-est-'));
  const platform = await Platform.open({ config: loadConfig({ MEDTRUST_DATA_DIR: dataDir, MEDTRUST_HTTP_PORT: '0', MEDTRUST_HTTPS_PORT: '0', MEDTRUST_MQTT_PORT: '0', MEDTRUST_LOG_LEVEL: 'error' }) });
  try {
    const listening = await platform.start();
    const s = platform.services;
    const rootPem = (await s.cas.get('root')).certificatePem;
    const devices = await provisionBenchDevices(platform, CLIENTS);
    const csrs = await makeCsrs(CLIENTS * CSRS_PER_CLIENT);
    const est = await runLoad({ url: `${listening.httpsUrl.replace('127.0.0.1', 'localhost')}/.well-known/est/simpleenroll`, caPem: rootPem, clients: clientsFrom(csrs, devices), durationMs: DURATION_MS });
    if (est.failed > 0) throw new Error(`EST bench: ${est.failed} failed requests, first: ${est.firstFailure}`);
    // The baseline serves with a certificate of the same kind (P-256, same chain) as the listener.
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const tls = await s.issuer.issueTlsServer({ hostnames: ['localhost'], ipAddresses: ['127.0.0.1'], publicKey });
    const base = await baseline(csrs.slice().reverse(), privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, tls.chainPem, rootPem);
    const chain = (await s.cas.get('operational')).chainDer;
    const leaf = Buffer.from(new X509Certificate(tls.pem).raw);
    const p7 = pkcs7Rates([leaf]);
    const p7chain = pkcs7Rates(chain);
    return [
      { name: `simpleenroll, ${CLIENTS} clients, keep-alive (IDevID auth)`, value: est.perSecond, unit: 'enrolments/s', baseline: `https server doing one P-256 sign per request: ${base.perSecond.toFixed(0)} req/s`, ratio: est.perSecond / base.perSecond, note: `${est.ok} enrolments` },
      { name: 'simpleenroll p99 latency', value: est.p99Ms, unit: 'ms', baseline: `sign-only https server p99 ${base.p99Ms.toFixed(1)} ms`, ratio: est.p99Ms / base.p99Ms, note: `p50 ${est.p50Ms.toFixed(1)} ms; ratio: lower is better` },
      { name: 'certs-only PKCS#7, 1 cert (by hand)', value: p7.hand, unit: 'encodes/s', baseline: `pkijs ${p7.lib.toFixed(0)}/s`, ratio: p7.hand / p7.lib },
      { name: 'certs-only PKCS#7, cacerts chain (by hand)', value: p7chain.hand, unit: 'encodes/s', baseline: `pkijs ${p7chain.lib.toFixed(0)}/s`, ratio: p7chain.hand / p7chain.lib, note: 'cacerts is also cached per process' },
    ];
  } finally {
    await platform.stop();
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
