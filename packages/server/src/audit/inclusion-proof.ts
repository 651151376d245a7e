import type { KeyObject } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../db/index.ts';
import { entryHash } from './audit-log.ts';
import { type Checkpoint, checkpointJson, verifyCheckpointSignature } from './checkpoint-note.ts';
import { toCheckpoint } from './checkpoint-service.ts';
import { type AuditEntryRow, entryPages } from './entry-pages.ts';
import { AuditError } from './errors.ts';
import { inclusionPath, MerkleAccumulator, verifyInclusion } from './merkle-tree.ts';

/** RFC 9162 inclusion proof of one entry against a signed checkpoint, with the entry itself. */
export interface InclusionProof {
  readonly entry: AuditEntryRow;
  /** 0-based leaf index: seq - 1. */
  readonly leafIndex: number;
  readonly auditPath: readonly Buffer[];
  readonly checkpoint: Checkpoint;
}

/** Builds the proof for entry `seq` against the latest checkpoint that covers it. */
export async function buildInclusionProof(db: Kysely<Database>, seq: number, pageSize = 2000): Promise<InclusionProof> {
  const entry = await db.selectFrom('audit_entry').selectAll().where('seq', '=', seq).executeTakeFirst();
  if (!entry) throw new AuditError('AUDIT_ENTRY_NOT_FOUND', `no audit entry ${seq}`);
  const row = await db.selectFrom('audit_checkpoint').selectAll().orderBy('tree_size', 'desc').limit(1).executeTakeFirst();
  if (!row || row.tree_size < seq) throw new AuditError('AUDIT_NO_CHECKPOINT', `no checkpoint covers entry ${seq} yet`);
  const checkpoint = toCheckpoint(row);
  const readRoot = async (start: number, end: number): Promise<Buffer> => {
    const acc = new MerkleAccumulator();
    for await (const r of entryPages(db, { afterSeq: start, toSeq: end, pageSize })) acc.pushEntry(Buffer.from(r.hash));
    return acc.root();
  };
  const auditPath = await inclusionPath(seq - 1, checkpoint.treeSize, readRoot);
  return { entry, leafIndex: seq - 1, auditPath, checkpoint };
}

export type ProofCheck = { readonly ok: true } | { readonly ok: false; readonly reason: 'entry-hash-mismatch' | 'checkpoint-signature-invalid' | 'path-invalid' };

/**
 * Checks a proof on its own: the entry's fields give its hash, the trusted key signed the
 * checkpoint, and the audit path leads from the entry to the checkpoint's root (RFC 9162 §2.1.3.2).
 */
export function verifyInclusionProof(proof: InclusionProof, trustedKey: KeyObject): ProofCheck {
  const e = proof.entry;
  const h = entryHash(Buffer.from(e.prev_hash), e);
  if (!h.equals(Buffer.from(e.hash)) || proof.leafIndex !== e.seq - 1) return { ok: false, reason: 'entry-hash-mismatch' };
  if (!verifyCheckpointSignature(proof.checkpoint, trustedKey)) return { ok: false, reason: 'checkpoint-signature-invalid' };
  const ok = verifyInclusion({ entryHash: h, leafIndex: proof.leafIndex, treeSize: proof.checkpoint.treeSize, auditPath: proof.auditPath, rootHash: proof.checkpoint.rootHash });
  return ok ? { ok: true } : { ok: false, reason: 'path-invalid' };
}

/** The proof as JSON: binary values in base64. */
export function proofToJson(p: InclusionProof): Record<string, unknown> {
  const e = p.entry;
  return {
    entry: { seq: e.seq, at: e.at, tenant_id: e.tenant_id, actor: e.actor, action: e.action, target: e.target, outcome: e.outcome, details: e.details, prev_hash: Buffer.from(e.prev_hash).toString('base64'), hash: Buffer.from(e.hash).toString('base64') },
    leafIndex: p.leafIndex,
    treeSize: p.checkpoint.treeSize,
    auditPath: p.auditPath.map((b) => b.toString('base64')),
    checkpoint: checkpointJson(p.checkpoint),
  };
}

/** Parses `proofToJson` output back (throws on a malformed document). */
export function proofFromJson(j: unknown): InclusionProof {
  const o = j as { entry: Record<string, unknown>; leafIndex: number; auditPath: string[]; checkpoint: Record<string, unknown> };
  const b = (v: unknown): Buffer => Buffer.from(String(v), 'base64');
  const e = o.entry;
  return {
    entry: {
      seq: Number(e.seq), at: Number(e.at), tenant_id: (e.tenant_id as string | null) ?? null, actor: String(e.actor), action: String(e.action),
      target: (e.target as string | null) ?? null, outcome: e.outcome as AuditEntryRow['outcome'], details: String(e.details), prev_hash: b(e.prev_hash), hash: b(e.hash),
    },
    leafIndex: Number(o.leafIndex),
    auditPath: o.auditPath.map(b),
    checkpoint: { treeSize: Number(o.checkpoint.treeSize), rootHash: b(o.checkpoint.rootHash), at: Number(o.checkpoint.at), signature: b(o.checkpoint.signature), keyId: String(o.checkpoint.keyId), algorithm: String(o.checkpoint.algorithm) },
  };
}
