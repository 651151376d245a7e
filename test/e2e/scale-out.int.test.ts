// Two `medtrust serve` nodes (child processes) on one PostgreSQL database and one external
// Mosquitto started from `medtrust gateway mosquitto-config`: device traffic is shared through the
// MQTT 5 shared subscription, scheduled jobs run once per cluster, SIGKILL of a node loses no
// telemetry Mosquitto acknowledged, and a revocation made on one node kicks the device off the broker.
import 'reflect-metadata';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import mqtt, { type MqttClient } from 'mqtt';
import { createTestDatabase, type TestDatabase } from '../../packages/server/src/db/testing.ts';
import { loadConfig, Platform } from '../../packages/server/src/index.ts';
import { createLogger } from '../../packages/server/src/logging/index.ts';
import { crlPem, eventually, freePort, makeDevices, metric, type Mosquitto, startMosquitto, startServe, stopChild, type TestDevice, vitalsMessage } from './scale-out-harness.ts';

interface Node { readonly name: string; readonly env: Record<string, string>; readonly url: string; child: ChildProcess | undefined }

/** A device publishing QoS 1 without pause (10 in flight); `acked` holds what Mosquitto PUBACKed. */
class Publisher {
  readonly acked: string[] = [];
  #stop = false;
  #done: Promise<void> | undefined;
  constructor(readonly client: MqttClient, readonly device: TestDevice) {}
  start(): void {
    let n = 0;
    const worker = async (): Promise<void> => {
      while (!this.#stop) {
        const id = `${this.device.serial}-${n++}`;
        try {
          await this.client.publishAsync(`devices/${this.device.id}/telemetry`, vitalsMessage(id, Date.now()), { qos: 1 });
          this.acked.push(id);
        } catch {
          return;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    this.#done = Promise.all(Array.from({ length: 10 }, worker)).then(() => undefined);
  }
  async stop(): Promise<void> {
    this.#stop = true;
    await this.#done;
    await this.client.endAsync();
  }
}

describe('scale-out: two nodes, one PostgreSQL, one external Mosquitto', () => {
  let t: TestDatabase;
  let dir: string;
  let base: Record<string, string>;
  let mosq: Mosquitto;
  let devices: TestDevice[];
  let adminToken: string;
  const nodes: Node[] = [];
  const publishers: Publisher[] = [];

  const connectDevice = (d: TestDevice, clientId = d.id): Promise<MqttClient> => mqtt.connectAsync(`mqtts://127.0.0.1:${mosq.devicePort}`, {
    clientId, cert: d.certPem, key: d.keyPem, ca: mosq.caPem, protocolVersion: 4, clean: true, reconnectPeriod: 0, connectTimeout: 5000,
  });
  const storedIds = async (): Promise<Set<string>> => new Set((await t.db.selectFrom('telemetry_message').select('message_id').execute()).map((r) => r.message_id));
  const stored = (n: Node): Promise<number> => metric(n.url, 'medtrust_telemetry_messages_total', { outcome: 'stored' });

  before(async () => {
    t = await createTestDatabase('postgres');
    dir = mkdtempSync(join(tmpdir(), 'medtrust-scale-'));
    // One data dir for both nodes (the shared volume of a real cluster: key store, artifacts).
    base = { ...process.env as Record<string, string>, MEDTRUST_DATA_DIR: join(dir, 'data'), MEDTRUST_DATABASE_URL: t.url!, MEDTRUST_MASTER_KEY: 'scale-out-test-master-key-01', MEDTRUST_LOG_LEVEL: 'warn' };
    const p = await Platform.open({ config: loadConfig(base), logger: createLogger({ level: 'silent' }) });
    try {
      const init = await p.init();
      // The operator's command runs beside the device set-up (it only needs the CAs).
      const broker = startMosquitto(base, dir);
      devices = await makeDevices(p, init.operatorTenantId, dir, ['SO-1', 'SO-2', 'SO-3', 'SO-REV', 'SO-OK']);
      adminToken = readFileSync(init.adminTokenPath, 'utf8').trim();
      mosq = await broker;
    } finally {
      await p.stop();
    }
    for (const name of ['node-a', 'node-b']) {
      const httpPort = await freePort();
      const env = { ...base, MEDTRUST_MQTT_URL: mosq.platformUrl, MEDTRUST_NODE_NAME: name, MEDTRUST_HTTP_PORT: String(httpPort), MEDTRUST_HTTPS_PORT: String(await freePort()) };
      nodes.push({ name, env, url: `http://127.0.0.1:${httpPort}`, child: undefined });
    }
    const t0 = Date.now();
    await Promise.all(nodes.map(async (n) => (n.child = await startServe(n.env))));
    console.log(`two nodes up in ${Date.now() - t0} ms`);
  });
  after(async () => {
    await Promise.all(publishers.map((p) => p.stop().catch(() => undefined)));
    await Promise.all(nodes.map((n) => stopChild(n.child)));
    await mosq?.stop();
    rmSync(dir, { recursive: true, force: true });
    await t?.close();
  });

  it('shares device traffic between the nodes (both store messages)', async () => {
    for (const d of devices.slice(0, 3)) {
      const p = new Publisher(await connectDevice(d), d);
      publishers.push(p);
      p.start();
    }
    const both = await eventually(async () => (await stored(nodes[0]!)) >= 20 && (await stored(nodes[1]!)) >= 20, 15_000, 250);
    assert.ok(both, `stored: ${await stored(nodes[0]!)} by node-a, ${await stored(nodes[1]!)} by node-b`);
  });

  it('runs a scheduled job once per cluster, not once per node', async () => {
    // campaign-evaluate is due every 1000 ms on each node. A run starts by taking the lease row
    // (lease_until = start + 950 ms) only where lease_until has passed, so each distinct
    // lease_until seen is one run in the cluster, and two are never closer than 950 ms.
    const runs = new Map<number, string>();
    const until = Date.now() + 5000;
    while (Date.now() < until) {
      const row = await t.db.selectFrom('job_lease').select(['holder', 'lease_until']).where('name', '=', 'campaign-evaluate').executeTakeFirst();
      if (row) runs.set(Number(row.lease_until), row.holder);
      await new Promise((r) => setTimeout(r, 20));
    }
    const times = [...runs.keys()].sort((a, b) => a - b);
    // Once per second for 5 s: about five runs; once per node would be about ten.
    assert.ok(times.length >= 3 && times.length <= 7, `runs in 5 s: ${times.length}`);
    for (let i = 1; i < times.length; i++) assert.ok(times[i]! - times[i - 1]! >= 950, `two runs ${times[i]! - times[i - 1]!} ms apart`);
    console.log(`campaign-evaluate ran ${times.length} times in 5 s, by ${new Set(runs.values()).size} node(s)`);
  });

  it('loses no acknowledged telemetry when a node is killed; the other node carries on', async () => {
    const [a, b] = nodes as [Node, Node];
    a.child!.kill('SIGKILL');
    await new Promise((r) => a.child!.once('exit', r));
    const bBefore = await stored(b);
    const ackedBefore = publishers.reduce((n, p) => n + p.acked.length, 0);
    await new Promise((r) => setTimeout(r, 3000));
    assert.ok(publishers.reduce((n, p) => n + p.acked.length, 0) > ackedBefore + 50, 'devices kept publishing');
    assert.ok((await stored(b)) > bBefore + 20, 'node-b kept storing');
    const lease = await t.db.selectFrom('job_lease').select(['lease_until', 'holder']).where('name', '=', 'campaign-evaluate').executeTakeFirstOrThrow();
    assert.ok(Date.now() - Number(lease.lease_until) < 2500, 'scheduled jobs carried on without node-a');
    await Promise.all(publishers.map((p) => p.stop()));
    // Mosquitto keeps node-a's share in node-a's persistent sessions; the restarted node drains it.
    a.child = await startServe(a.env);
    const acked = publishers.flatMap((p) => p.acked);
    const complete = await eventually(async () => {
      const s = await storedIds();
      return acked.every((id) => s.has(id));
    }, 20_000, 250);
    const s = await storedIds();
    const lost = acked.filter((id) => !s.has(id));
    assert.ok(complete, `${lost.length} of ${acked.length} acknowledged messages missing: ${lost.slice(0, 5).join(', ')}`);
    console.log(`${acked.length} acknowledged, all stored; the restarted node-a drained ${await stored(a)} from its sessions`);
    // For docs/scale-out.md: PostgreSQL bytes per stored message (row, derived sample, indexes).
    const { rows } = await sql<{ bytes: string; n: string }>`select pg_total_relation_size('telemetry_message') + pg_total_relation_size('telemetry_sample') as bytes, (select count(*) from telemetry_message) as n`.execute(t.db);
    console.log(`PostgreSQL: ${Math.round(Number(rows[0]!.bytes) / Number(rows[0]!.n))} bytes per stored message (${rows[0]!.n} messages, one vital each)`);
  });

  it('kicks a device off the broker when another node revokes its certificate; the new CRL keeps it out', async () => {
    const rev = devices[3]!;
    const ok = devices[4]!;
    const client = await connectDevice(rev);
    client.on('error', () => undefined);
    const bystander = await connectDevice(ok);
    const closed = new Promise<number>((r) => client.once('close', () => r(Date.now())));
    const t0 = Date.now();
    const res = await fetch(`${nodes[1]!.url}/api/v1/certificates/${rev.serial}/revoke`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ reason: 'keyCompromise' }) });
    assert.equal(res.status, 200, await res.text());
    const at = await Promise.race([closed, new Promise<number>((r) => setTimeout(() => r(-1), 5000))]);
    assert.ok(at > 0, 'revoked device still connected after 5 s');
    console.log(`revoked device kicked ${at - t0} ms after the revocation`);
    assert.ok(bystander.connected, 'the other device stays connected');
    const kicked = await eventually(async () => (await t.db.selectFrom('audit_entry').select('details').where('action', '=', 'gateway.disconnect').where('target', '=', `device:${rev.id}`).execute())
      .some((r) => (JSON.parse(r.details) as { broker?: string }).broker === 'external'), 5000);
    assert.ok(kicked, 'the kick is audited');
    // The operator's refresh (cron or systemd path unit): fetch the CRL from any node, write it, SIGHUP.
    const der = Buffer.from(await (await fetch(`${nodes[0]!.url}/pki/crl/operational.crl`)).arrayBuffer());
    writeFileSync(mosq.crlFile, crlPem(der));
    mosq.process.kill('SIGHUP');
    await new Promise((r) => setTimeout(r, 500));
    await assert.rejects(connectDevice(rev), 'Mosquitto refuses the revoked LDevID after the reload');
    const again = await connectDevice(ok, `${ok.id}-2`);
    await again.endAsync();
    await bystander.endAsync();
  });
});
