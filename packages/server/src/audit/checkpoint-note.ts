import { createHash, type KeyObject, verify } from 'node:crypto';
import type { KeyHandle } from '../pki/index.ts';

/** A signed statement: "the audit log's first `treeSize` entries have Merkle root `rootHash`". */
export interface Checkpoint {
  readonly treeSize: number;
  readonly rootHash: Buffer;
  readonly at: number;
  readonly signature: Buffer;
  readonly keyId: string;
  readonly algorithm: string;
}

const NOTE_ORIGIN = 'medtrust-audit-checkpoint/v1';

/**
 * The bytes a checkpoint signature covers, in the spirit of the C2SP tlog-checkpoint note:
 * origin line, tree size, base64 root hash, time in ms, each ending with a newline.
 */
export function checkpointNote(c: { treeSize: number; rootHash: Buffer; at: number }): Buffer {
  return Buffer.from(`${NOTE_ORIGIN}\n${c.treeSize}\n${c.rootHash.toString('base64')}\n${c.at}\n`, 'utf8');
}

/** Key id: hex SHA-256 of the public key's SubjectPublicKeyInfo DER. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex');
}

/** Signs a checkpoint with an Ed25519 or P-256 key handle (the only algorithms accepted here). */
export function signCheckpoint(key: KeyHandle, c: { treeSize: number; rootHash: Buffer; at: number }): Checkpoint {
  if (key.algorithm !== 'ed25519' && key.algorithm !== 'ec-p256') throw new RangeError(`audit checkpoints need an ed25519 or ec-p256 key, not ${key.algorithm}`);
  return { ...c, signature: key.sign(checkpointNote(c)), keyId: keyIdOf(key.publicKey), algorithm: key.algorithm };
}

/** True when `publicKey` signed exactly this checkpoint's tree size, root and time. */
export function verifyCheckpointSignature(c: Checkpoint, publicKey: KeyObject): boolean {
  const note = checkpointNote(c);
  try {
    switch (publicKey.asymmetricKeyType) {
      case 'ed25519':
        return c.algorithm === 'ed25519' && verify(null, note, publicKey, c.signature);
      case 'ec':
        // KeyHandle.sign returns a DER ECDSA-Sig-Value (X.509 scheme) for P-256 with SHA-256.
        return c.algorithm === 'ec-p256' && verify('sha256', note, { key: publicKey, dsaEncoding: 'der' }, c.signature);
      default:
        return false;
    }
  } catch {
    return false;
  }
}

/** Checkpoint as plain JSON (hashes and signature in base64). */
export function checkpointJson(c: Checkpoint): Record<string, string | number> {
  return { treeSize: c.treeSize, rootHash: c.rootHash.toString('base64'), at: c.at, signature: c.signature.toString('base64'), keyId: c.keyId, algorithm: c.algorithm };
}
