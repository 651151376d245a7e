import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ManualClock, MedTrustError } from '@medtrust/core';
import { sql } from 'kysely';
import { migrateToLatest } from '../db/index.ts';
import { createTestDatabase, TEST_DIALECTS, type TestDatabase } from '../db/testing.ts';
import { allMigrations } from '../migrations.ts';
import { DbAuditLog, entryHash } from './audit-log.ts';
import { verifyAuditLog } from './audit-verifier.ts';
import { JobRunner } from '../jobs/index.ts';
import { createLogger } from '../logging/index.ts';
import { CHECKPOINT_JOB, CheckpointService } from './checkpoint-service.ts';
import { buildInclusionProof, proofFromJson, proofToJson, verifyInclusionProof } from './inclusion-proof.ts';
import { testKeyHandle } from './test-key.ts';

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof MedTrustError, String(e));
    return e.code;
  }
  assert.fail('expected an error');
}

for (const dialect of TEST_DIALECTS) {
  describe(`audit verification (${dialect})`, () => {
    let t: TestDatabase;
    const clock = new ManualClock(1_800_000_000_000);
    const key = testKeyHandle(dialect === 'sqlite' ? 'ed25519' : 'ec-p256');
    let checkpoints: CheckpointService;
    const verify = () => verifyAuditLog({ db: t.db, trustedKeys: [key.publicKey], pageSize: 16 });

    before(async () => {
      t = await createTestDatabase(dialect);
      await migrateToLatest(t.db, dialect, allMigrations);
    });
    after(() => t.close());

    // A fresh log per case: 60 entries with checkpoints at 50 and 60, then 5 more entries.
    beforeEach(async () => {
      await t.db.deleteFrom('audit_checkpoint').execute();
      await t.db.deleteFrom('audit_entry').execute();
      const log = new DbAuditLog({ db: t.db, dialect, clock });
      checkpoints = new CheckpointService({ db: t.db, signingKey: key, clock, pageSize: 16 });
      await log.appendMany(Array.from({ length: 50 }, (_, i) => ({ actor: 'system', action: 'test.event', target: `x:${i}`, tenantId: i % 2 ? 'ten_a' : null, details: { i, note: 'a "quoted" ]value\\' } })));
      assert.equal((await checkpoints.create())?.treeSize, 50);
      await log.appendMany(Array.from({ length: 10 }, (_, i) => ({ actor: 'cli', action: 'test.more', details: { i } })));
      assert.equal((await checkpoints.create())?.treeSize, 60);
      await log.appendMany(Array.from({ length: 5 }, (_, i) => ({ actor: 'cli', action: 'test.tail', outcome: 'denied' as const, details: { i } })));
    });

    it('verifies an intact log with its checkpoints', async () => {
      assert.deepEqual(await verify(), { ok: true, entries: 65, checkpoints: 2, latestCheckpoint: 60 });
      const again = await checkpoints.create();
      assert.equal(again?.treeSize, 65);
      assert.equal((await checkpoints.create())?.treeSize, 65, 'no new checkpoint without new entries');
      assert.deepEqual(await verify(), { ok: true, entries: 65, checkpoints: 3, latestCheckpoint: 65 });
    });

    it('signs checkpoints from the scheduled job, once per cluster', async () => {
      const a = new JobRunner({ db: t.db, clock, holder: 'node-a', logger: createLogger({ level: 'silent' }) });
      const b = new JobRunner({ db: t.db, clock, holder: 'node-b', logger: createLogger({ level: 'silent' }) });
      a.add(checkpoints.job(60_000));
      b.add(checkpoints.job(60_000));
      assert.equal(await a.runOnce(CHECKPOINT_JOB), true);
      assert.equal(await b.runOnce(CHECKPOINT_JOB), false, 'the other node holds the lease');
      assert.equal((await checkpoints.latest())?.treeSize, 65);
      clock.advance(120_000);
    });

    it('finds an edited entry (hash mismatch)', async () => {
      await t.db.updateTable('audit_entry').set({ outcome: 'failure' }).where('seq', '=', 7).execute();
      const r = await verify();
      assert.equal(r.ok, false);
      assert.deepEqual(!r.ok && r.problem, { kind: 'hash-mismatch', seq: 7 });
    });

    it('finds a deleted entry (seq gap)', async () => {
      await t.db.deleteFrom('audit_entry').where('seq', '=', 33).execute();
      const r = await verify();
      assert.deepEqual(!r.ok && r.problem, { kind: 'seq-gap', seq: 33, nextFound: 34 });
    });

    it('finds two swapped entries (prev_hash mismatch)', async () => {
      await sql`update audit_entry set seq = -1 where seq = 12`.execute(t.db);
      await sql`update audit_entry set seq = 12 where seq = 13`.execute(t.db);
      await sql`update audit_entry set seq = 13 where seq = -1`.execute(t.db);
      const r = await verify();
      assert.deepEqual(!r.ok && r.problem, { kind: 'prev-hash-mismatch', seq: 12 });
    });

    it('finds an edit whose chain was rewritten consistently through the checkpoint root', async () => {
      const rows = await t.db.selectFrom('audit_entry').selectAll().where('seq', '>=', 20).orderBy('seq').execute();
      let prev: Buffer = Buffer.from((await t.db.selectFrom('audit_entry').select('hash').where('seq', '=', 19).executeTakeFirstOrThrow()).hash);
      for (const r of rows) {
        const edited = { ...r, action: r.seq === 20 ? 'test.innocent' : r.action, prev_hash: prev };
        const hash = entryHash(prev, edited);
        await t.db.updateTable('audit_entry').set({ action: edited.action, prev_hash: prev, hash }).where('seq', '=', r.seq).execute();
        prev = hash;
      }
      const r = await verify();
      assert.deepEqual(!r.ok && r.problem, { kind: 'checkpoint-root-mismatch', seq: 50 });
    });

    it('finds entries deleted from the end below a checkpoint', async () => {
      await t.db.deleteFrom('audit_entry').where('seq', '>', 55).execute();
      const r = await verify();
      assert.deepEqual(!r.ok && r.problem, { kind: 'checkpoint-beyond-end', seq: 56, treeSize: 60 });
    });

    it('finds a forged checkpoint and one signed by an untrusted key', async () => {
      await t.db.updateTable('audit_checkpoint').set({ at: 1 }).where('tree_size', '=', 60).execute();
      const r = await verify();
      assert.deepEqual(!r.ok && r.problem, { kind: 'checkpoint-signature-invalid', seq: 60 });
      const other = generateKeyPairSync('ed25519').publicKey;
      const u = await verifyAuditLog({ db: t.db, trustedKeys: [other] });
      assert.equal(!u.ok && u.problem.kind, 'checkpoint-key-unknown');
    });

    it('refuses to checkpoint over an edited entry', async () => {
      await t.db.updateTable('audit_entry').set({ details: '{}' }).where('seq', '=', 62).execute();
      const e = await checkpoints.create().catch((x: unknown) => x);
      assert.ok(e instanceof MedTrustError);
      assert.equal(e.code, 'AUDIT_TAMPERED');
      assert.deepEqual(e.details, { kind: 'hash-mismatch', seq: 62 });
      assert.equal((await checkpoints.latest())?.treeSize, 60);
    });

    it('proves inclusion of entries against the latest checkpoint', async () => {
      for (const seq of [1, 17, 50, 60]) {
        const proof = await buildInclusionProof(t.db, seq, 16);
        assert.equal(proof.checkpoint.treeSize, 60);
        const roundTrip = proofFromJson(JSON.parse(JSON.stringify(proofToJson(proof))));
        assert.deepEqual(verifyInclusionProof(roundTrip, key.publicKey), { ok: true });
        const moved = proofFromJson({ ...proofToJson(proof), leafIndex: proof.leafIndex === 0 ? 1 : 0 });
        assert.equal(verifyInclusionProof(moved, key.publicKey).ok, false);
        const j = proofToJson(proof) as { entry: Record<string, unknown> };
        const forged = proofFromJson({ ...j, entry: { ...j.entry, outcome: 'denied' } });
        assert.deepEqual(verifyInclusionProof(forged, key.publicKey), { ok: false, reason: 'entry-hash-mismatch' });
      }
      assert.equal(await codeOf(buildInclusionProof(t.db, 63)), 'AUDIT_NO_CHECKPOINT');
      assert.equal(await codeOf(buildInclusionProof(t.db, 999)), 'AUDIT_ENTRY_NOT_FOUND');
      assert.equal(verifyInclusionProof(await buildInclusionProof(t.db, 5), generateKeyPairSync('ed25519').publicKey).ok, false);
    });
  });
}
