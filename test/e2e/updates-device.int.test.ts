import 'reflect-metadata';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MedTrustError } from '@medtrust/core';
import { UpdateClient, type UpdateClientOptions, type UpdateStatus } from '../../packages/device/src/update/index.ts';
import { startUpdatesHarness, type UpdatesHarness } from './updates-harness.ts';

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof MedTrustError, String(e));
    return e.code;
  }
  assert.fail('expected an error');
}

describe('device update client (tuf-js, A/B install)', () => {
  let h: UpdatesHarness;
  let work: string;
  let root: Buffer;
  before(async () => {
    h = await startUpdatesHarness({ dialect: 'sqlite' });
    work = mkdtempSync(join(tmpdir(), 'medtrust-dev-upd-'));
    root = Buffer.from(await (await fetch(`${h.url}/tuf/metadata/1.root.json`)).arrayBuffer());
  });
  after(async () => {
    await h.close();
    rmSync(work, { recursive: true, force: true });
  });

  const device = (id: string, o: Partial<UpdateClientOptions> & { statuses?: UpdateStatus[] } = {}): UpdateClient => new UpdateClient({
    deviceId: id, model: 'pump-a', hardwareRevision: 'A', trustedRoot: root,
    metadataBaseUrl: `${h.url}/tuf/metadata`, targetBaseUrl: `${h.url}/tuf/targets`,
    dataDir: join(work, id), factory: { version: '1.0.0', releaseId: null, target: null, sha256: null },
    healthCheck: async () => true, onStatus: (s) => o.statuses?.push(s), ...o,
  });

  it('installs the newest release into the inactive slot and switches to it', async () => {
    const fw = Buffer.from('pump-a 1.1.0 image');
    await h.publish('pump-a', '1.1.0', 'fw.bin', fw);
    const statuses: UpdateStatus[] = [];
    const d = device('dev-1', { statuses });
    assert.deepEqual(await d.update(), { kind: 'installed', version: '1.1.0' });
    assert.deepEqual(statuses.map((s) => s.kind), ['pending', 'downloading', 'installing', 'installed']);
    assert.equal(d.slots.active(), 'b');
    assert.deepEqual(readFileSync(join(d.slots.slotDir('b'), 'fw.bin')), fw);
    assert.equal(d.slots.installed().version, '1.1.0');
    assert.deepEqual(await d.update(), { kind: 'up-to-date', version: '1.1.0' });
  });

  it('rolls back when the health check fails', async () => {
    await h.publish('pump-a', '1.2.0', 'fw.bin', Buffer.from('pump-a 1.2.0 broken'));
    const statuses: UpdateStatus[] = [];
    const d = device('dev-2', { statuses, healthCheck: async (_f, v) => v !== '1.2.0' });
    assert.equal((await d.update({ version: '1.1.0' })).kind, 'installed');
    assert.deepEqual(await d.update(), { kind: 'rolled-back', version: '1.2.0' });
    assert.equal(statuses.at(-1)!.kind, 'rolled-back');
    assert.equal(d.slots.installed().version, '1.1.0');
  });

  it('defers while therapy runs', async () => {
    const statuses: UpdateStatus[] = [];
    const d = device('dev-3', { statuses, isSafeToInstall: () => false });
    assert.deepEqual(await d.update(), { kind: 'deferred', version: '1.2.0' });
    assert.deepEqual(statuses.at(-1), { kind: 'pending', version: '1.2.0', reason: 'therapy-running' });
    assert.equal(d.slots.installed().version, '1.0.0');
  });

  describe('when the release must not be installed', () => {
    it('refuses a downgrade unless one is signed for this very device', async () => {
      const old = await h.publish('pump-a', '1.0.5', 'fw.bin', Buffer.from('pump-a 1.0.5'));
      const statuses: UpdateStatus[] = [];
      const d = device('dev-4', { statuses });
      assert.equal((await d.update()).kind, 'installed');
      assert.equal(await codeOf(d.update({ version: '1.0.5' })), 'UPDATE_DOWNGRADE_REFUSED');
      assert.deepEqual(statuses.at(-1), { kind: 'failed', version: '1.0.5', code: 'UPDATE_DOWNGRADE_REFUSED' });
      assert.equal(d.slots.installed().version, '1.2.0');
      const r = await h.call('POST', `/api/v1/releases/${old.id}/downgrade-authorisations`, { deviceIds: ['dev-4'] });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual(await d.update({ version: '1.0.5' }), { kind: 'installed', version: '1.0.5' });
      const other = device('dev-5');
      assert.equal((await other.update()).kind, 'installed');
      assert.equal(await codeOf(other.update({ version: '1.0.5' })), 'UPDATE_DOWNGRADE_REFUSED');
    });

    it('refuses a release for another hardware revision', async () => {
      const c = await h.upload({ model: 'pump-a', version: '2.0.0', fileName: 'fw.bin', hwRev: 'B' }, Buffer.from('rev B only'));
      await h.call('POST', `/api/v1/releases/${c.body.id}/approve`);
      await h.call('POST', `/api/v1/releases/${c.body.id}/publish`);
      assert.equal(await codeOf(device('dev-6').update({ version: '2.0.0' })), 'UPDATE_HARDWARE_MISMATCH');
    });

    it('finds nothing for a model that has no such release', async () => {
      await h.publish('pump-b', '5.0.0', 'fw.bin', Buffer.from('pump-b 5'));
      const d = device('dev-7', { model: 'pump-b' });
      assert.equal(await codeOf(d.update({ version: '1.2.0' })), 'UPDATE_NOT_FOUND');
      assert.equal((await d.update()).kind, 'installed');
    });

    it('refuses metadata it cannot verify (a root from another repository)', async () => {
      const other = await startUpdatesHarness({ dialect: 'sqlite' });
      try {
        const foreignRoot = Buffer.from(await (await fetch(`${other.url}/tuf/metadata/1.root.json`)).arrayBuffer());
        assert.equal(await codeOf(device('dev-8', { trustedRoot: foreignRoot }).update()), 'UPDATE_METADATA_REFUSED');
      } finally {
        await other.close();
      }
    });
  });
});
