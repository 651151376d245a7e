import 'reflect-metadata';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '@medtrust/core';
import { Updater } from 'tuf-js';
import { TufDocumentStore } from '../../packages/server/src/updates/tuf/tuf-document-store.ts';
import { TufKeyring } from '../../packages/server/src/updates/tuf/tuf-keyring.ts';
import { metaFileInfo, type SnapshotSigned, type TargetsSigned, type TimestampSigned, tufExpiry } from '../../packages/server/src/updates/tuf/tuf-metadata.ts';
import { startUpdatesHarness, type UpdatesHarness } from './updates-harness.ts';

const FW_A = Buffer.from('pump-a firmware 1.0.0 '.repeat(500));

/** A tuf-js client whose trusted root is the repository's 1.root.json (shipped with the device). */
async function newClient(h: UpdatesHarness, dir: string): Promise<Updater> {
  const metadataDir = join(dir, 'metadata');
  const targetDir = join(dir, 'targets');
  mkdirSync(metadataDir, { recursive: true });
  mkdirSync(targetDir, { recursive: true });
  try {
    readFileSync(join(metadataDir, 'root.json'));
  } catch {
    const r = await fetch(`${h.url}/tuf/metadata/1.root.json`);
    assert.equal(r.status, 200);
    writeFileSync(join(metadataDir, 'root.json'), Buffer.from(await r.arrayBuffer()));
  }
  return new Updater({ metadataDir, metadataBaseUrl: `${h.url}/tuf/metadata`, targetDir, targetBaseUrl: `${h.url}/tuf/targets`, config: { fetchRetry: 0 } });
}

async function refused(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof Error);
    return e;
  }
  assert.fail('expected tuf-js to refuse');
}

describe('TUF repository with the tuf-js Updater', () => {
  let h: UpdatesHarness;
  let work: string;
  before(async () => {
    h = await startUpdatesHarness({ dialect: 'sqlite' });
    work = mkdtempSync(join(tmpdir(), 'medtrust-tuf-'));
  });
  after(async () => {
    await h.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('refreshes and downloads a published artifact, by hash-prefixed name', async () => {
    const rel = await h.publish('pump-a', '1.0.0', 'fw.bin', FW_A);
    assert.deepEqual(rel.targets, ['pump-a/1.0.0/fw.bin']);
    const u = await newClient(h, join(work, 'happy'));
    await u.refresh();
    const info = await u.getTargetInfo('pump-a/1.0.0/fw.bin');
    assert.ok(info);
    assert.equal(info.custom.version, '1.0.0');
    const path = await u.downloadTarget(info, join(work, 'happy', 'fw.bin'));
    assert.deepEqual(readFileSync(path), FW_A);
    const manifest = await u.getTargetInfo('pump-a/index.json');
    assert.ok(manifest);
    const m = JSON.parse(readFileSync(await u.downloadTarget(manifest, join(work, 'happy', 'index.json')), 'utf8'));
    assert.deepEqual(m.latest, { version: '1.0.0', target: 'pump-a/1.0.0/fw.bin' });
    // Spec details a foreign client relies on.
    const root = await (await fetch(`${h.url}/tuf/metadata/root.json`)).json();
    assert.match(root.signed.expires, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(root.signed.roles.root.threshold, 2);
    assert.equal(root.signed.roles.root.keyids.length, 2);
    assert.equal(root.signed.consistent_snapshot, true);
    const plain = await fetch(`${h.url}/tuf/targets/pump-a/1.0.0/fw.bin`);
    assert.equal(plain.status, 404);
  });

  it('follows a root rotation signed by the old and the new root keys', async () => {
    const dir = join(work, 'rotate');
    await (await newClient(h, dir)).refresh();
    const r = await h.updates.ceremony.rotateRoot({ actor: 'test' });
    assert.equal(r.version, 2);
    const u = await newClient(h, dir);
    await u.refresh();
    const trusted = JSON.parse(readFileSync(join(dir, 'metadata', 'root.json'), 'utf8'));
    assert.equal(trusted.signed.version, 2);
    assert.deepEqual([...trusted.signed.roles.root.keyids].sort(), [...r.keyIds].sort());
  });

  it('answers an unchanged timestamp with 304 to a conditional check, and 200 once it changed', async () => {
    const url = `${h.url}/tuf/metadata/timestamp.json`;
    const first = await fetch(url);
    const etag = first.headers.get('etag');
    assert.equal(first.status, 200);
    assert.match(String(etag), /^"[A-Za-z0-9_-]{43}"$/);
    const again = await fetch(url, { headers: { 'if-none-match': etag! } });
    assert.equal(again.status, 304);
    assert.equal((await again.arrayBuffer()).byteLength, 0);
    assert.equal((await fetch(url, { headers: { 'if-none-match': '"something else"' } })).status, 200);
    // Within the reader's cache time the copy in memory is served (tufFastPath, before Fastify)...
    const served = await fetch(url);
    assert.equal(served.headers.get('etag'), etag);
    assert.equal(served.headers.get('cache-control'), 'no-cache');
    assert.deepEqual(Buffer.from(await served.arrayBuffer()), Buffer.from(await (await fetch(`${h.url}/tuf/metadata/timestamp.json`)).arrayBuffer()));
    // ...and a publication on this node invalidates it at once.
    await h.publish('pump-a', '1.0.9', 'fw.bin', Buffer.from('fw 1.0.9'));
    const changed = await fetch(url, { headers: { 'if-none-match': etag! } });
    assert.equal(changed.status, 200);
    assert.notEqual(changed.headers.get('etag'), etag);
  });

  it('refuses a rolled-back timestamp', async () => {
    const dir = join(work, 'rollback');
    await h.publish('pump-a', '1.0.1', 'fw.bin', Buffer.from('fw 1.0.1'));
    await (await newClient(h, dir)).refresh();
    const latest = await h.t.db.selectFrom('tuf_metadata').select('version').where('role', '=', 'timestamp').orderBy('version', 'desc').executeTakeFirstOrThrow();
    const saved = await h.t.db.selectFrom('tuf_metadata').selectAll().where('role', '=', 'timestamp').where('version', '=', latest.version).executeTakeFirstOrThrow();
    // An attacker (or a stale mirror) serves the previous, validly signed timestamp.
    await h.t.db.deleteFrom('tuf_metadata').where('role', '=', 'timestamp').where('version', '=', latest.version).execute();
    h.updates.reader.invalidate();
    try {
      const e = await refused((await newClient(h, dir)).refresh());
      assert.equal(e.constructor.name, 'BadVersionError');
    } finally {
      await h.t.db.insertInto('tuf_metadata').values(saved).execute();
      h.updates.reader.invalidate();
    }
  });

  it('refuses a snapshot that does not match the timestamp (mix-and-match)', async () => {
    await h.publish('pump-a', '1.0.2', 'fw.bin', Buffer.from('fw 1.0.2'));
    const [cur, prev] = await h.t.db.selectFrom('tuf_metadata').selectAll().where('role', '=', 'snapshot').orderBy('version', 'desc').limit(2).execute();
    // Serve the older (validly signed) snapshot under the version the timestamp names.
    await h.t.db.updateTable('tuf_metadata').set({ body: prev!.body }).where('role', '=', 'snapshot').where('version', '=', cur!.version).execute();
    try {
      const e = await refused((await newClient(h, join(work, 'mix'))).refresh());
      assert.match(String(e), /LengthOrHashMismatch|hash/i);
    } finally {
      await h.t.db.updateTable('tuf_metadata').set({ body: cur!.body }).where('role', '=', 'snapshot').where('version', '=', cur!.version).execute();
    }
  });

  it('refuses a tampered artifact', async () => {
    const rel = await h.publish('pump-a', '1.0.3', 'fw.bin', Buffer.from('fw 1.0.3 bytes'));
    const file = join(h.t.dataDir, 'artifacts', 'sha256', rel.sha256.slice(0, 2), rel.sha256);
    const good = readFileSync(file);
    const bad = Buffer.from(good);
    bad[3] = bad[3]! ^ 0x01;
    writeFileSync(file, bad);
    try {
      const u = await newClient(h, join(work, 'tamper'));
      const info = await u.getTargetInfo('pump-a/1.0.3/fw.bin');
      assert.ok(info);
      const e = await refused(u.downloadTarget(info, join(work, 'tamper', 'fw.bin')));
      assert.match(e.constructor.name, /LengthOrHashMismatchError/);
    } finally {
      writeFileSync(file, good);
    }
  });

  it('refuses a target for another model listed by a model\'s delegation', async () => {
    await h.publish('pump-b', '2.0.0', 'fw.bin', Buffer.from('pump-b fw'));
    // Worst case: the pump-a delegation key and the online snapshot/timestamp keys are stolen
    // and sign a pump-a role that lists a pump-b target.
    const docs = new TufDocumentStore({ db: h.t.db, dialect: 'sqlite' });
    const keys = new TufKeyring({ keyStore: h.keyStore });
    const a = await docs.latest<TargetsSigned>(h.t.db, 'pump-a');
    const evil = Buffer.from('evil');
    const forged: TargetsSigned = { ...a!.doc.signed, version: a!.version + 1, targets: { ...a!.doc.signed.targets, 'pump-b/9.9.9/evil.bin': { length: evil.length, hashes: { sha256: 'ab'.repeat(32) } } } };
    const exp = Date.now() + 86_400_000;
    const fa = await docs.write(h.t.db, 'pump-a', forged, await keys.current(h.t.db, 'delegation:pump-a'), exp);
    const snap = await docs.latest<SnapshotSigned>(h.t.db, 'snapshot');
    const fs = await docs.write(h.t.db, 'snapshot', { ...snap!.doc.signed, version: snap!.version + 1, expires: tufExpiry(exp), meta: { ...snap!.doc.signed.meta, 'pump-a.json': metaFileInfo(fa.version, fa.body) } }, await keys.current(h.t.db, 'snapshot'), exp);
    const ts = await docs.latest<TimestampSigned>(h.t.db, 'timestamp');
    await docs.write(h.t.db, 'timestamp', { ...ts!.doc.signed, version: ts!.version + 1, expires: tufExpiry(exp), meta: { 'snapshot.json': metaFileInfo(fs.version, fs.body) } }, await keys.current(h.t.db, 'timestamp'), exp);
    h.updates.reader.invalidate();
    const u = await newClient(h, join(work, 'model'));
    await u.refresh();
    // TUF 1.0 §5.6.7.2: pump-a's role is not consulted for pump-b paths.
    assert.equal(await u.getTargetInfo('pump-b/9.9.9/evil.bin'), undefined);
    assert.ok(await u.getTargetInfo('pump-b/2.0.0/fw.bin'));
  });
});

describe('TUF timestamp freshness', () => {
  let h: UpdatesHarness;
  let work: string;
  const clock = new ManualClock(Date.now() - 2 * 86_400_000);
  before(async () => {
    h = await startUpdatesHarness({ dialect: 'postgres', clock });
    work = mkdtempSync(join(tmpdir(), 'medtrust-tuf-'));
  });
  after(async () => {
    await h.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('refuses an expired (frozen) timestamp, and the refresh job re-signs it', async () => {
    await h.publish('pump-a', '7', 'fw.bin', Buffer.from('counter 7'));
    const e = await refused((await newClient(h, join(work, 'frozen'))).refresh());
    assert.equal(e.constructor.name, 'ExpiredMetadataError');
    clock.set(Date.now());
    const roles = await h.updates.tuf.refreshExpiring();
    assert.ok(roles.includes('timestamp'), roles.join());
    const u = await newClient(h, join(work, 'fresh'));
    await u.refresh();
    assert.ok(await u.getTargetInfo('pump-a/7/fw.bin'));
    assert.deepEqual(await h.updates.tuf.refreshExpiring(), []);
  });
});

describe('TUF repository with ECDSA P-256 keys (the HSM case)', () => {
  it('is accepted by tuf-js: keytype ecdsa, scheme ecdsa-sha2-nistp256, PEM keys', async () => {
    const h = await startUpdatesHarness({ dialect: 'sqlite', algorithm: 'ec-p256' });
    const work = mkdtempSync(join(tmpdir(), 'medtrust-tuf-ec-'));
    try {
      await h.publish('pump-a', '1.0.0', 'fw.bin', FW_A);
      const root = await (await fetch(`${h.url}/tuf/metadata/root.json`)).json() as { signed: { keys: Record<string, { keytype: string; scheme: string; keyval: { public: string } }> } };
      for (const k of Object.values(root.signed.keys)) {
        assert.equal(k.keytype, 'ecdsa');
        assert.equal(k.scheme, 'ecdsa-sha2-nistp256');
        assert.match(k.keyval.public, /^-----BEGIN PUBLIC KEY-----/);
      }
      const u = await newClient(h, work);
      const info = await u.getTargetInfo('pump-a/1.0.0/fw.bin');
      assert.ok(info);
      assert.deepEqual(readFileSync(await u.downloadTarget(info, join(work, 'fw.bin'))), FW_A);
    } finally {
      await h.close();
      rmSync(work, { recursive: true, force: true });
    }
  });
});
