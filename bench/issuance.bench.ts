// Bulk IDevID issuance from CSRs (CSR verify + sign + durable store in SQLite), measured against
// (a) the bare crypto work on the same keys: crypto.verify of each CSR + crypto.sign by the CA,
// and (b) an issuance path built on @peculiar/x509 (parse, verify, generate, same store).
// Device keys are P-256; the Manufacturing CA is P-256 (ECDSA-SHA256) under a P-384 root, as the
// profiles say (docs/pki-profiles.md).
import 'reflect-metadata';
import { generateKeyPairSync, type KeyObject, sign, verify, webcrypto } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { bitString, implicit, integer, oid, sequence, setOf, utf8String } from '@medtrust/core';
import { loadConfig, Platform } from '@medtrust/server';
import type { BenchRow } from './bench-row.ts';

const BULK = 3000;
const X509_ITEMS = 300;
const ROUNDS = 6;

interface DeviceCsr {
  readonly der: Buffer;
  /** The same bytes on their own ArrayBuffer, as WebCrypto-based @peculiar/x509 takes them. */
  readonly bytes: Uint8Array<ArrayBuffer>;
  readonly cri: Buffer;
  readonly signature: Buffer;
  readonly spki: Buffer;
  readonly publicKey: KeyObject;
}

/** A PKCS#10 request for a fresh P-256 key (RFC 2986), built here so setup stays fast. */
function makeCsr(cn: string): DeviceCsr {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  const name = sequence(setOf(sequence(oid('2.5.4.3'), utf8String(cn))));
  const cri = sequence(integer(0), name, spki, implicit(0, Buffer.alloc(0), true));
  const signature = sign('sha256', cri, privateKey);
  const der = sequence(cri, sequence(oid('1.2.840.10045.4.3.2')), bitString(signature));
  return { der, bytes: new Uint8Array(der), cri, signature, spki, publicKey };
}

/** How many times less CPU ours needs per certificate than the baseline (same item counts). */
function cpuRatio(baselineCpuMs: number, oursCpuMs: number): number {
  return baselineCpuMs / oursCpuMs;
}

function rate(n: number, ms: number): number {
  return n / (ms / 1000);
}

export async function run(): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'medtrust-issuance-bench-'));
  const p = await Platform.open({ config: loadConfig({ MEDTRUST_DATA_DIR: dir, MEDTRUST_MASTER_KEY: 'bench master key 0123456789', MEDTRUST_LOG_LEVEL: 'silent' }) });
  try {
    await p.init();
    const s = p.services;
    const tenantId = await s.tenants.ensureOperator();
    const total = 50 + BULK + X509_ITEMS;
    const devices = await s.devices.createMany(Array.from({ length: total }, (_, i) => ({ serial: `B-${i}`, model: 'BenchPump', hardwareRevision: 'A', tenantId })), 'bench');
    const csrs = devices.map((d) => makeCsr(d.id));
    const mfg = await s.cas.get('manufacturing');
    const item = (i: number): { device: (typeof devices)[number]; csrDer: Buffer } => ({ device: devices[i] as (typeof devices)[number], csrDer: (csrs[i] as DeviceCsr).der });

    // Warm-up (JIT, template cache, prepared statements).
    await s.issuer.issueIdevidBatch({ items: Array.from({ length: 50 }, (_, i) => item(i)), actor: 'bench' });

    x509.cryptoProvider.set(webcrypto as unknown as Crypto);
    const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
    const caKeys = await webcrypto.subtle.generateKey(alg, false, ['sign', 'verify']);
    const caCert = await x509.X509CertificateGenerator.createSelfSigned({ name: 'CN=Bench CA', keys: caKeys, signingAlgorithm: alg, serialNumber: '01' });
    const aki = await x509.AuthorityKeyIdentifierExtension.create(caCert);

    // The four paths run interleaved in rounds so that load from other processes hits them alike.
    let oursMs = 0;
    let bareMs = 0;
    let barePreMs = 0;
    let x509Ms = 0;
    // CPU time of this process too: on a loaded machine wall time also counts other processes.
    const cpu = { ours: 0, bare: 0, barePre: 0, x509: 0 };
    let c0 = process.cpuUsage();
    const cpuSince = (): number => {
      const d = process.cpuUsage(c0);
      c0 = process.cpuUsage();
      return (d.user + d.system) / 1000;
    };
    const perRound = BULK / ROUNDS;
    const x509PerRound = X509_ITEMS / ROUNDS;
    for (let round = 0; round < ROUNDS; round++) {
      const first = 50 + round * perRound;
      // Ours: the factory bulk path, end to end, committed.
      cpuSince();
      let t = performance.now();
      const issued = await s.issuer.issueIdevidBatch({ items: Array.from({ length: perRound }, (_, i) => item(first + i)), actor: 'bench' });
      oursMs += performance.now() - t;
      cpu.ours += cpuSince();
      const tbsLike = issued[0]?.der.subarray(4, issued[0].der.length - 80) ?? Buffer.alloc(500);

      // Baseline (a): the same verify + sign work and nothing else, keys as the CSRs carry them.
      t = performance.now();
      for (let i = first; i < first + perRound; i++) {
        const c = csrs[i] as DeviceCsr;
        if (!verify('sha256', c.cri, { key: c.spki, format: 'der', type: 'spki' }, c.signature)) throw new Error('bad');
        mfg.key.sign(tbsLike);
      }
      bareMs += performance.now() - t;
      cpu.bare += cpuSince();
      // Baseline (a'): stricter, public keys already imported as KeyObjects (no parsing at all).
      t = performance.now();
      for (let i = first; i < first + perRound; i++) {
        const c = csrs[i] as DeviceCsr;
        if (!verify('sha256', c.cri, c.publicKey, c.signature)) throw new Error('bad');
        mfg.key.sign(tbsLike);
      }
      barePreMs += performance.now() - t;
      cpu.barePre += cpuSince();

      // Baseline (b): @peculiar/x509. Its CA key is a WebCrypto P-256 key (the key store does not
      // export keys); same extensions, same SQL store in one transaction, same audit.
      const base = 50 + BULK + round * x509PerRound;
      t = performance.now();
      const rows: Array<{ serial: string; deviceId: string; der: Buffer; spki: Buffer }> = [];
      for (let i = base; i < base + x509PerRound; i++) {
        const csr = new x509.Pkcs10CertificateRequest((csrs[i] as DeviceCsr).bytes);
        if (!(await csr.verify())) throw new Error('bad');
        const pk = await csr.publicKey.export({ name: 'ECDSA', namedCurve: 'P-256' }, ['verify']);
        const cert = await x509.X509CertificateGenerator.create({
          serialNumber: webcrypto.getRandomValues(Buffer.alloc(16)).toString('hex').replace(/^./, '4'), subject: `2.5.4.5=${devices[i]?.serial}, CN=BenchPump ${devices[i]?.serial}, O=MedTrust`, issuer: caCert.subject,
          notBefore: new Date(), notAfter: new Date('9999-12-31T23:59:59Z'), publicKey: pk, signingKey: caKeys.privateKey, signingAlgorithm: alg,
          extensions: [
            new x509.BasicConstraintsExtension(false, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true), aki,
            await x509.SubjectKeyIdentifierExtension.create(pk), new x509.CRLDistributionPointsExtension(['http://localhost/pki/crl/manufacturing.crl']),
            new x509.AuthorityInfoAccessExtension({ ocsp: ['http://localhost/ocsp'], caIssuers: ['http://localhost/pki/ca/manufacturing.crt'] }),
          ],
        });
        rows.push({ serial: cert.serialNumber.toLowerCase(), deviceId: (devices[i] as { id: string }).id, der: Buffer.from(cert.rawData), spki: Buffer.from(await webcrypto.subtle.digest('SHA-256', cert.publicKey.rawData)) });
      }
      const now = Date.now();
      await s.db.transaction().execute(async (trx) => {
        await trx.insertInto('certificate').values(rows.map((r) => ({
          serial: r.serial, ca_name: 'manufacturing', profile: 'idevid' as const, device_id: r.deviceId, tenant_id: tenantId, subject: 'x', not_before: now, not_after: now,
          spki_sha256: r.spki, der: r.der, status: 'valid' as const, revoked_at: null, revocation_reason: null, superseded_by: null, created_at: now,
        }))).execute();
      });
      await s.audit.appendMany(rows.map((r) => ({ actor: 'bench', action: 'pki.certificate.issued', target: `certificate:${r.serial}` })));
      x509Ms += performance.now() - t;
      cpu.x509 += cpuSince();
    }

    const ours = rate(BULK, oursMs);
    const bare = rate(BULK, bareMs);
    const barePre = rate(BULK, barePreMs);
    const viaX509 = rate(X509_ITEMS, x509Ms);
    return [
      { name: 'bulk IDevID issuance from CSRs (verify+sign+store)', value: ours, unit: 'certs/s', note: `${BULK} certs in ${ROUNDS} batches, each one transaction + audit entries listing every serial` },
      { name: 'vs bare crypto.verify+crypto.sign (key from CSR DER)', value: ours, unit: 'certs/s', baseline: `${bare.toFixed(0)} ops/s`, ratio: ours / bare, note: `target >= 0.6; by CPU time ${cpuRatio(cpu.bare, cpu.ours).toFixed(2)}x` },
      { name: 'vs bare crypto.verify+crypto.sign (pre-imported keys)', value: ours, unit: 'certs/s', baseline: `${barePre.toFixed(0)} ops/s`, ratio: ours / barePre, note: `stricter: key import counted as overhead; by CPU time ${cpuRatio(cpu.barePre, cpu.ours).toFixed(2)}x` },
      { name: 'vs issuance built on @peculiar/x509', value: ours, unit: 'certs/s', baseline: `${viaX509.toFixed(0)} certs/s`, ratio: ours / viaX509, note: `target >= 10; by CPU time ${cpuRatio(cpu.x509 / X509_ITEMS * BULK, cpu.ours).toFixed(2)}x` },
    ];
  } finally {
    await p.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
