import 'reflect-metadata';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { main } from '@medtrust/cli';
import { loadConfig, Platform } from '@medtrust/server';
import { UpdateClient, type UpdateStatus } from '../../packages/device/src/update/index.ts';
import { createTestDatabase, type TestDatabase } from '../../packages/server/src/db/testing.ts';

/** Runs the CLI in-process against the same data dir and database; returns exit code and output. */
async function cli(env: Record<string, string>, ...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['node', 'medtrust', ...argv], env, { out: (l) => out.push(l), err: (l) => err.push(l), isTty: false });
  return { code, out, err };
}

describe('updates on the whole platform (real file key store, CLI, PostgreSQL)', () => {
  let t: TestDatabase;
  let p: Platform;
  let env: Record<string, string>;
  let base: string;

  before(async () => {
    t = await createTestDatabase('postgres');
    env = { MEDTRUST_DATA_DIR: t.dataDir, MEDTRUST_DATABASE_URL: t.url!, MEDTRUST_HTTP_PORT: '0', MEDTRUST_HTTPS_PORT: '0', MEDTRUST_MQTT_PORT: '0', MEDTRUST_LOG_LEVEL: 'silent' };
    p = await Platform.open({ config: loadConfig(env) });
    base = (await p.start()).httpUrl;
    const tenantId = await p.services.tenants.ensureOperator();
    const now = Date.now();
    await p.services.db.insertInto('device').values({ id: 'dev_monitor1', serial: 'MON-1', model: 'monitor-x', hardware_revision: 'C', tenant_id: tenantId, site_id: null, state: 'active', firmware_version: '2', batch_id: null, created_at: now, updated_at: now }).execute();
  });
  after(async () => {
    await p.stop();
    await t.close();
  });

  it('publishes with the CLI, updates a device over /tuf, and follows a root rotation', async () => {
    const fw = join(t.dataDir, 'monitor-3.img');
    writeFileSync(fw, Buffer.from('monitor-x firmware 3'));
    const created = await cli(env, 'release', 'create', '--model', 'monitor-x', '--version', '3', '--file', fw, '--notes', 'counter release', '--json');
    assert.equal(created.code, 0, created.err.join('\n'));
    const rel = JSON.parse(created.out[0]!);
    assert.equal(rel.state, 'draft');
    assert.equal((await cli(env, 'release', 'publish', rel.id)).code, 0);
    const again = await cli(env, 'release', 'publish', rel.id);
    assert.equal(again.code, 2);
    assert.match(again.err.join('\n'), /^error RELEASE_STATE_INVALID/);

    // The TUF keys are in the real key store; root keys under their own labels.
    const keyFiles = readdirSync(join(t.dataDir, 'keys'));
    assert.equal(keyFiles.filter((f) => f.startsWith('tuf-offline.root.')).length, 2);
    assert.ok(keyFiles.some((f) => f.startsWith('tuf-online.timestamp.')));

    const root = Buffer.from(await (await fetch(`${base}/tuf/metadata/1.root.json`)).arrayBuffer());
    const statuses: UpdateStatus[] = [];
    const device = new UpdateClient({
      deviceId: 'dev_monitor1', model: 'monitor-x', hardwareRevision: 'C', trustedRoot: root,
      metadataBaseUrl: `${base}/tuf/metadata`, targetBaseUrl: `${base}/tuf/targets`, dataDir: join(t.dataDir, 'device'),
      factory: { version: '2', releaseId: null, target: null, sha256: null }, healthCheck: async () => true, onStatus: (s) => statuses.push(s),
    });
    assert.deepEqual(await device.update(), { kind: 'installed', version: '3' });
    assert.deepEqual(statuses.map((s) => s.kind), ['pending', 'downloading', 'installing', 'installed']);

    const rotated = await cli(env, 'tuf', 'rotate-root', '--json');
    assert.equal(rotated.code, 0, rotated.err.join('\n'));
    assert.equal(JSON.parse(rotated.out[0]!).version, 2);
    assert.deepEqual(await device.update(), { kind: 'up-to-date', version: '3' });
    assert.equal(JSON.parse(readFileSync(join(t.dataDir, 'device', 'tuf', 'root.json'), 'utf8')).signed.version, 2);
    const actions = (await p.services.db.selectFrom('audit_entry').select('action').where('action', 'like', 'tuf.%').execute()).map((a) => a.action);
    assert.ok(actions.includes('tuf.repository.initialised') && actions.includes('tuf.root.rotated') && actions.includes('tuf.metadata.signed'), actions.join());
  });
});
