// Reconnect storm against the embedded broker: N devices (default 5,000), each with its own key
// and LDevID from the Operational CA, all connect at once over mTLS (full handshakes) and replay
// the readings they buffered while offline. Measured: time until every device is connected
// (CONNACK), until every buffered reading is acknowledged, until presence shows every device
// online; proof that nothing buffered was lost (every reading stored once); and memory per
// connected device as the broker process's RSS growth after a full GC, divided by N.
import 'reflect-metadata';
import { spawn } from 'node:child_process';
import { webcrypto } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import * as x509 from '@peculiar/x509';
import { Registry } from 'prom-client';
import { DbAuditLog } from '../packages/server/src/audit/index.ts';
import { migrateToLatest } from '../packages/server/src/db/index.ts';
import { createTestDatabase } from '../packages/server/src/db/testing.ts';
import { LocalEventBus } from '../packages/server/src/events/index.ts';
import { DeviceGateway } from '../packages/server/src/gateway/index.ts';
import { createOpensslTestPki } from '../packages/server/src/gateway/testing/openssl-test-pki.ts';
import { TableCertificateStore, TableDeviceDirectory } from '../packages/server/src/gateway/testing/table-identity.ts';
import { createLogger } from '../packages/server/src/logging/index.ts';
import { allMigrations } from '../packages/server/src/migrations.ts';
import type { BenchRow } from './bench-row.ts';

const DEVICES = Number(process.env.MEDTRUST_BENCH_STORM_DEVICES ?? 5000);
const BUFFERED = 2;
const LOAD = new URL('./telemetry-storm-load.ts', import.meta.url).pathname;

/** A full collection, without requiring `node --expose-gc`. */
function fullGc(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

const pem = (label: string, der: ArrayBuffer): string => `-----BEGIN ${label}-----\n${Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END ${label}-----\n`;

interface StormResult { connected: number; allConnectedMs: number; p50ConnectMs: number; p99ConnectMs: number; allAckedMs: number; retries: number }

export async function run(): Promise<BenchRow[]> {
  // node:crypto webcrypto is the WebCrypto the library expects; the DOM and Node typings differ.
  x509.cryptoProvider.set(webcrypto as unknown as Crypto);
  const t = await createTestDatabase('sqlite');
  await migrateToLatest(t.db, 'sqlite', allMigrations);
  const pki = await createOpensslTestPki(t.db);
  let gw: DeviceGateway | undefined;
  try {
    // N distinct identities, issued in-process by the test PKI's Operational CA (openssl per device would take minutes).
    const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
    const caCert = new x509.X509Certificate(pki.operationalPem);
    const caKeyDer = Buffer.from(readFileSync(join(pki.dir, 'operational.key'), 'utf8').replace(/-----[^-]+-----|\s/g, ''), 'base64');
    const caKey = await webcrypto.subtle.importKey('pkcs8', caKeyDer, alg, false, ['sign']);
    const now = Date.now();
    await t.db.insertInto('tenant').values({ id: 'ten_storm', kind: 'customer', name: 'storm', parent_id: null, time_zone: null, created_at: now }).execute();
    const devices: Array<{ id: string; certPem: string; keyPem: string }> = [];
    for (let start = 0; start < DEVICES; start += 500) {
      const deviceRows = [];
      const certRows = [];
      for (let i = start; i < Math.min(DEVICES, start + 500); i++) {
        const id = `dev_storm${i}`;
        const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
        const serial = `4${i.toString(16).padStart(7, '0')}${Buffer.from(webcrypto.getRandomValues(new Uint8Array(12))).toString('hex')}`;
        const cert = await x509.X509CertificateGenerator.create({
          serialNumber: serial, subject: `CN=${id}`, issuer: caCert.subjectName, notBefore: new Date(now - 60_000), notAfter: new Date(now + 7 * 86_400_000),
          publicKey: keys.publicKey, signingKey: caKey, signingAlgorithm: alg,
          extensions: [new x509.BasicConstraintsExtension(false, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true), new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth])],
        });
        devices.push({ id, certPem: cert.toString('pem'), keyPem: pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)) });
        deviceRows.push({ id, serial: `SN-${id}`, model: 'monitor-x', hardware_revision: 'A', tenant_id: 'ten_storm', site_id: null, state: 'active' as const, firmware_version: null, batch_id: null, created_at: now, updated_at: now });
        certRows.push({
          serial, ca_name: 'operational', profile: 'ldevid' as const, device_id: id, tenant_id: 'ten_storm', subject: `CN=${id}`, not_before: cert.notBefore.getTime(), not_after: cert.notAfter.getTime(),
          spki_sha256: Buffer.alloc(32), der: Buffer.from(cert.rawData), status: 'valid' as const, revoked_at: null, revocation_reason: null, superseded_by: null, created_at: now,
        });
      }
      await t.db.insertInto('device').values(deviceRows).execute();
      await t.db.insertInto('certificate').values(certRows).execute();
    }
    const argsFile = join(pki.dir, 'storm.json');
    gw = await DeviceGateway.start({
      db: t.db, audit: new DbAuditLog({ db: t.db, dialect: 'sqlite' }), events: new LocalEventBus(), logger: createLogger({ level: 'silent' }), metrics: new Registry(), node: 'storm',
      certificates: new TableCertificateStore(t.db), devices: new TableDeviceDirectory(t.db),
      mqtt: { bindHost: '127.0.0.1', port: 0, tls: { key: pki.server.keyPem, cert: pki.server.chainPem, clientCas: [pki.operationalPem, pki.rootPem] } },
    });
    writeFileSync(argsFile, JSON.stringify({ port: gw.broker!.port, caPem: pki.rootPem, buffered: BUFFERED, devices }));
    devices.length = 0;
    fullGc();
    const rss0 = process.memoryUsage().rss;
    const mem0 = process.memoryUsage();
    const t0 = performance.now();
    const child = spawn(process.execPath, ['--import', 'tsx', LOAD, argsFile], { stdio: ['pipe', 'pipe', 'inherit'] });
    const result = await new Promise<StormResult>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        if (out.includes('\n')) resolve(JSON.parse(out) as StormResult);
      });
      child.on('exit', (code) => reject(new Error(`storm load exited ${code}`)));
    });
    // Presence is recorded after CONNACK (aedes clientReady): wait until every device shows online.
    const count = async (q: 'presence' | 'stored'): Promise<number> => Number((q === 'presence'
      ? await t.db.selectFrom('device_presence').select((eb) => eb.fn.countAll<number>().as('n')).where('online', '=', 1).where('tenant_id', '=', 'ten_storm').executeTakeFirstOrThrow()
      : await t.db.selectFrom('telemetry_message').select((eb) => eb.fn.countAll<number>().as('n')).where('message_id', 'like', 'storm-%').executeTakeFirstOrThrow()).n);
    while ((await count('presence')) < DEVICES) await new Promise((r) => setTimeout(r, 100));
    const presenceMs = performance.now() - t0;
    const stored = await count('stored');
    const distinct = Number((await t.db.selectFrom('telemetry_message').select((eb) => eb.fn.count<number>('device_id').distinct().as('n')).where('message_id', 'like', 'storm-%').executeTakeFirstOrThrow()).n);
    await new Promise((r) => setTimeout(r, 1000));
    fullGc();
    const mem1 = process.memoryUsage();
    const connected = gw.broker!.connectedDevices;
    child.stdin.end();
    await new Promise((r) => child.once('exit', r));
    const lost = DEVICES * BUFFERED - stored;
    const perDeviceKiB = (mem1.rss - rss0) / DEVICES / 1024;
    const heapKiB = (mem1.heapUsed + mem1.external - mem0.heapUsed - mem0.external) / DEVICES / 1024;
    const note = `${DEVICES} devices, distinct LDevIDs, full mTLS handshakes (no resumption), ${result.retries} connect retries; broker and device processes share the machine`;
    return [
      { name: `reconnect storm: all ${DEVICES} devices connected (CONNACK)`, value: result.allConnectedMs / 1000, unit: 's', note: `${note}; p50 ${(result.p50ConnectMs / 1000).toFixed(1)} s, p99 ${(result.p99ConnectMs / 1000).toFixed(1)} s` },
      { name: 'reconnect storm: all buffered readings acknowledged (stored)', value: result.allAckedMs / 1000, unit: 's', note: `${BUFFERED} per device replayed after connect; stored ${stored} of ${DEVICES * BUFFERED} from ${distinct} devices; lost ${lost}` },
      { name: 'reconnect storm: presence online for every device', value: presenceMs / 1000, unit: 's', note: `connection history, activation and audit per connection; ${connected} devices held by the broker` },
      { name: `memory per connected device (${DEVICES} mTLS connections)`, value: perDeviceKiB, unit: 'KiB RSS', note: `RSS growth after a full GC / N; JS heap + external + buffers ${heapKiB.toFixed(1)} KiB of it; the rest is OpenSSL and allocator state` },
    ];
  } finally {
    await gw?.stop();
    pki.close();
    await t.close();
  }
}
