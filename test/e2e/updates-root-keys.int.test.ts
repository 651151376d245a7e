// TUF root keys apart from the online keys: a root rotation moves them into a separate encrypted
// file store with its own passphrase; the serving process (online keys only) keeps signing
// targets, snapshot and timestamp but cannot sign a root; tuf-js follows every rotation.
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MedTrustError } from '@medtrust/core';
import { Updater } from 'tuf-js';
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

describe('TUF root keys in a separate key store', () => {
  let h: UpdatesHarness;
  let work: string;
  let rootDir: string;
  const passphrase = 'root ceremony passphrase 2026';
  before(async () => {
    h = await startUpdatesHarness({ dialect: 'sqlite' });
    work = mkdtempSync(join(tmpdir(), 'medtrust-tuf-root-'));
    rootDir = join(work, 'root-store');
  });
  after(async () => {
    await h.close();
    rmSync(work, { recursive: true, force: true });
  });

  /** A tuf-js client that trusts root v1 and keeps its state in `dir`. */
  const client = async (dir: string): Promise<Updater> => {
    const metadataDir = join(dir, 'metadata');
    if (!existsSync(metadataDir)) {
      mkdirSync(metadataDir, { recursive: true });
      writeFileSync(join(metadataDir, 'root.json'), Buffer.from(await (await fetch(`${h.url}/tuf/metadata/1.root.json`)).arrayBuffer()));
    }
    return new Updater({ metadataDir, metadataBaseUrl: `${h.url}/tuf/metadata`, targetDir: join(dir, 'targets'), targetBaseUrl: `${h.url}/tuf/targets`, config: { fetchRetry: 0 } });
  };
  const trustedRoot = (dir: string) => JSON.parse(readFileSync(join(dir, 'metadata', 'root.json'), 'utf8')) as { signed: { version: number; roles: { root: { keyids: string[]; threshold: number } } } };
  const rootRefs = async () => (await h.t.db.selectFrom('tuf_key').select('key_ref').where('role', '=', 'root').where('retired_at', 'is', null).execute()).map((r) => r.key_ref);
  const onlineRootLabels = () => h.keyStore.labels.filter((l) => l.startsWith('tuf-offline.root.'));

  it('moves the root keys into the root store by a rotation that tuf-js follows', async () => {
    const device = join(work, 'device');
    await (await client(device)).refresh();
    assert.equal(onlineRootLabels().length, 2, 'root v1 keys were made in the online store');
    const r = await h.updates.rootFileCeremony({ dir: rootDir, passphrase }).rotateRoot({ actor: 'test', keyCount: 3, threshold: 2 });
    assert.equal(r.version, 2);
    // New root keys exist only in the root store: refs say so, files are there, the online store has none.
    assert.ok((await rootRefs()).every((ref) => ref.startsWith('offline:')));
    assert.equal(readdirSync(join(rootDir, 'keys')).filter((f) => f.startsWith('tuf-offline.root.')).length, 3);
    assert.equal(onlineRootLabels().length, 2);
    await (await client(device)).refresh();
    assert.equal(trustedRoot(device).signed.version, 2);
    assert.deepEqual([...trustedRoot(device).signed.roles.root.keyids].sort(), [...r.keyIds].sort());
  });

  it('keeps the online process signing releases without the root keys, and unable to sign a root', async () => {
    await h.publish('pump-a', '4.0.0', 'fw.bin', Buffer.from('after the move'));
    const device = join(work, 'device-2');
    const u = await client(device);
    await u.refresh();
    assert.ok(await u.getTargetInfo('pump-a/4.0.0/fw.bin'));
    assert.equal(await codeOf(h.updates.ceremony.rotateRoot({ actor: 'online-process' })), 'TUF_ROOT_KEYS_UNAVAILABLE');
    const latest = await h.t.db.selectFrom('tuf_metadata').select('version').where('role', '=', 'root').orderBy('version', 'desc').executeTakeFirstOrThrow();
    assert.equal(Number(latest.version), 2);
  });

  it('refuses a wrong or short passphrase and changes nothing', async () => {
    const before = await rootRefs();
    assert.equal(await codeOf(h.updates.rootFileCeremony({ dir: rootDir, passphrase: 'not the passphrase at all' }).rotateRoot({ actor: 'test' })), 'CA_KEY_LOCKED');
    assert.equal(await codeOf((async () => h.updates.rootFileCeremony({ dir: rootDir, passphrase: 'short' }))()), 'TUF_ROOT_KEYS_UNAVAILABLE');
    assert.deepEqual(await rootRefs(), before);
  });

  it('rotates again from the root store alone (reopened from disk)', async () => {
    const r = await h.updates.rootFileCeremony({ dir: rootDir, passphrase }).rotateRoot({ actor: 'test' });
    assert.equal(r.version, 3);
    const device = join(work, 'device');
    await (await client(device)).refresh();
    assert.equal(trustedRoot(device).signed.version, 3);
    assert.equal(trustedRoot(device).signed.roles.root.threshold, 2);
    const audit = await h.t.db.selectFrom('audit_entry').select('action').where('action', '=', 'tuf.root.rotated').execute();
    assert.equal(audit.length, 2);
  });
});
