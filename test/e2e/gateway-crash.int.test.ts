// kill -9 of `medtrust serve` during QoS 1 ingest loses no acknowledged message: the platform
// runs as a child process with its real CA hierarchy; the device uses an LDevID from its
// Operational CA and mqtt.js; after the kill every PUBACKed message id must be in the database.
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import mqtt from 'mqtt';
import { createTestDatabase, TEST_DIALECTS, type TestDatabase } from '../../packages/server/src/db/testing.ts';
import { loadConfig, Platform } from '../../packages/server/src/index.ts';
import { createLogger } from '../../packages/server/src/logging/index.ts';
import { freePort } from './ports.ts';

const CLI = new URL('../../packages/cli/bin/medtrust.js', import.meta.url).pathname;

for (const dialect of TEST_DIALECTS) {
  describe(`medtrust serve killed during ingest (${dialect})`, () => {
    let t: TestDatabase;
    let dir: string;
    let env: Record<string, string>;
    let device: { id: string; certPem: string; keyPem: string; caPem: string };
    let child: ChildProcess | undefined;

    before(async () => {
      t = await createTestDatabase(dialect);
      dir = mkdtempSync(join(tmpdir(), 'medtrust-crash-'));
      const mqttPort = await freePort();
      env = {
        ...process.env as Record<string, string>, MEDTRUST_DATA_DIR: join(dir, 'data'), MEDTRUST_HTTP_PORT: '0', MEDTRUST_HTTPS_PORT: '0', MEDTRUST_MQTT_PORT: String(mqttPort),
        MEDTRUST_MASTER_KEY: 'crash-test-master-key-0123', MEDTRUST_LOG_LEVEL: 'warn', ...(t.url ? { MEDTRUST_DATABASE_URL: t.url } : {}),
      };
      // Set up with the platform's own services: CA hierarchy, a device, its LDevID from a CSR.
      const p = await Platform.open({ config: loadConfig(env), logger: createLogger({ level: 'silent' }) });
      try {
        const init = await p.init();
        const tenantId = init.operatorTenantId;
        const d = await p.services.devices.create({ serial: 'CRASH-1', model: 'pump-x', hardwareRevision: 'A', tenantId }, 'test');
        await p.services.devices.transition(d.id, 'enrolled', 'test');
        execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', join(dir, 'dev.key')]);
        const csr = execFileSync('openssl', ['req', '-new', '-key', join(dir, 'dev.key'), '-subj', `/CN=${d.id}`, '-outform', 'DER']);
        const issued = await p.services.issuer.issueLdevid({ deviceId: d.id, csrDer: csr, actor: 'test' });
        const root = await p.services.cas.get('root');
        device = { id: d.id, certPem: issued.pem, keyPem: readFileSync(join(dir, 'dev.key'), 'utf8'), caPem: root.certificatePem };
      } finally {
        await p.stop();
      }
    });
    after(async () => {
      child?.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      await t.close();
    });

    it('finds every PUBACKed message stored after SIGKILL', async () => {
      const t0 = Date.now();
      child = spawn(process.execPath, [CLI, 'serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`serve did not start: ${stderr}`)), 60_000);
        child!.stdout!.on('data', (b: Buffer) => { if (b.toString().includes('MedTrust')) { clearTimeout(timer); resolve(); } });
        child!.once('exit', (code) => reject(new Error(`serve exited ${code}: ${stderr}`)));
      });
      console.log(`serve up in ${Date.now() - t0} ms`);
      const client = await mqtt.connectAsync(`mqtts://127.0.0.1:${env.MEDTRUST_MQTT_PORT}`, {
        clientId: device.id, key: device.keyPem, cert: device.certPem, ca: device.caPem, protocolVersion: 4, reconnectPeriod: 0, clean: true,
      });
      client.on('error', () => undefined);
      const acked: string[] = [];
      let sent = 0;
      let dead = false;
      // In-flight publishes never settle once the broker is gone: the close ends the run.
      const closed = new Promise<void>((r) => client.once('close', () => {
        dead = true;
        r();
      }));
      // 20 in flight, as a device replaying its queue would.
      const worker = async (): Promise<void> => {
        while (!dead) {
          const id = `c-${sent++}`;
          const body = JSON.stringify({ v: 1, id, ts: Date.now(), kind: 'vitals', vitals: { heartRate: { value: 60 + (sent % 50), unit: '/min' } } });
          try {
            await client.publishAsync(`devices/${device.id}/telemetry`, body, { qos: 1 });
            acked.push(id);
          } catch {
            return;
          }
          if (acked.length === 400) child!.kill('SIGKILL');
        }
      };
      const started = Date.now();
      await Promise.race([Promise.all(Array.from({ length: 20 }, worker)), closed, new Promise((r) => setTimeout(r, 30_000))]);
      console.log(`acked ${acked.length} in ${Date.now() - started} ms`);
      client.end(true);
      await new Promise((r) => (child!.exitCode !== null || child!.signalCode !== null ? r(undefined) : child!.once('exit', r)));
      assert.equal(child.signalCode, 'SIGKILL');
      assert.ok(acked.length >= 400, `acked ${acked.length}`);
      const verify = await createTestDatabaseReader(t, dir);
      const stored = new Set((await verify.selectFrom('telemetry_message').select('message_id').where('device_id', '=', device.id).execute()).map((r) => r.message_id));
      await verify.destroy();
      const lost = acked.filter((id) => !stored.has(id));
      assert.deepEqual(lost, [], `${lost.length} of ${acked.length} acknowledged messages lost`);
      assert.ok(stored.size >= acked.length);
    });
  });
}

/** A fresh connection to the database the killed child wrote (the SQLite file, or PostgreSQL). */
async function createTestDatabaseReader(t: TestDatabase, dir: string) {
  const { openDatabase } = await import('../../packages/server/src/db/index.ts');
  return openDatabase({ dataDir: join(dir, 'data'), databaseUrl: t.url }).db;
}
