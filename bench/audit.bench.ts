// Audit log verification at scale: N entries (default 100k; MEDTRUST_BENCH_AUDIT_ENTRIES=1000000
// for the 1M case) are written straight into a SQLite database with a correct chain, then
// `verifyAuditLog` streams them. Baselines in the same run: reading the same pages without any
// hashing (the floor set by the database), and plain SHA-256 over the entry hashes for the Merkle
// accumulator. The heap-growth row shows that verification holds a page, not the log.
import 'reflect-metadata';
import { createHash } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { stableJson } from '@medtrust/core';
import type { Insertable } from 'kysely';
import type { BenchRow } from './bench-row.ts';
import { CheckpointService, entryHash, entryPages, GENESIS_HASH, MerkleAccumulator, testKeyHandle, verifyAuditLog } from '../packages/server/src/audit/index.ts';
import { type Database, migrateToLatest } from '../packages/server/src/db/index.ts';
import { createTestDatabase } from '../packages/server/src/db/testing.ts';
import { allMigrations } from '../packages/server/src/migrations.ts';

const N = Number(process.env.MEDTRUST_BENCH_AUDIT_ENTRIES ?? 100_000);

// A collectable heap before each measure, so the growth row is about the measured work only.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

async function timed<T>(f: () => Promise<T>): Promise<{ ms: number; value: T; heapGrowthMb: number }> {
  gc();
  const heap0 = process.memoryUsage().heapUsed;
  let peak = heap0;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 20);
  const t0 = performance.now();
  const value = await f();
  const ms = performance.now() - t0;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().heapUsed);
  return { ms, value, heapGrowthMb: (peak - heap0) / 1048576 };
}

export async function run(): Promise<BenchRow[]> {
  const t = await createTestDatabase('sqlite');
  try {
    await migrateToLatest(t.db, 'sqlite', allMigrations);
    let prev: Buffer = GENESIS_HASH;
    for (let start = 1; start <= N; start += 1000) {
      const rows: Array<Insertable<Database['audit_entry']>> = [];
      for (let seq = start; seq < Math.min(start + 1000, N + 1); seq++) {
        const row = { seq, at: 1_800_000_000_000 + seq, tenant_id: seq % 3 ? 'ten_a' : null, actor: 'system', action: 'bench.event', target: `device:${seq % 977}`, outcome: 'success' as const, details: stableJson({ seq, note: 'bench' }) };
        const hash = entryHash(prev, row);
        rows.push({ ...row, prev_hash: prev, hash });
        prev = hash;
      }
      await t.db.transaction().execute(async (trx) => {
        for (let i = 0; i < rows.length; i += 500) await trx.insertInto('audit_entry').values(rows.slice(i, i + 500)).execute();
      });
    }
    const key = testKeyHandle();
    const cp = await timed(() => new CheckpointService({ db: t.db, signingKey: key }).create());
    const read = await timed(async () => {
      let n = 0;
      for await (const _ of entryPages(t.db)) n++;
      return n;
    });
    const verify = await timed(() => verifyAuditLog({ db: t.db, trustedKeys: [key.publicKey] }));
    if (!verify.value.ok || verify.value.entries !== N || read.value !== N) throw new Error('bench log did not verify');
    const hashes = Array.from({ length: 200_000 }, (_, i) => createHash('sha256').update(String(i)).digest());
    const sha = await timed(async () => hashes.forEach((h) => createHash('sha256').update(h).digest()));
    const merkle = await timed(async () => {
      const acc = new MerkleAccumulator();
      hashes.forEach((h) => acc.pushEntry(h));
      return acc.root();
    });
    const perS = (ms: number, n: number): number => n / (ms / 1000);
    return [
      { name: `verify ${N} entries (chain + checkpoint)`, value: perS(verify.ms, N), unit: 'entries/s', baseline: 'page read without hashing', ratio: verify.ms / read.ms, note: `lower is better (time ratio); read ${perS(read.ms, N).toFixed(0)}/s` },
      { name: 'verify heap growth', value: verify.heapGrowthMb, unit: 'MB', note: `peak above a collected heap, sampled every 20 ms, streaming ${N} entries in pages of 2000; the rows themselves are ~${Math.round((N * 250) / 1048576)} MB` },
      { name: `checkpoint over ${N} entries`, value: perS(cp.ms, N), unit: 'entries/s', baseline: 'page read without hashing', ratio: cp.ms / read.ms, note: 'first checkpoint: chain check + Merkle over the whole log' },
      { name: 'Merkle accumulator', value: perS(merkle.ms, hashes.length), unit: 'leaves/s', baseline: 'one SHA-256 per leaf', ratio: merkle.ms / sha.ms, note: 'time ratio; RFC 9162 needs ~2 hashes per leaf' },
    ];
  } finally {
    await t.close();
  }
}
