import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { canonicalize } from '@tufjs/canonical-json';
import { Metadata, MetadataKind } from '@tufjs/models';
import { TestKeyStore } from '../test-key-store.ts';
import { signTuf, tufKeyId, tufPublicKey } from './tuf-key.ts';
import { tufExpiry, TUF_SPEC_VERSION } from './tuf-metadata.ts';

/** Plain JSON as @tufjs/models reads it off the wire. */
const wire = (x: unknown): never => JSON.parse(JSON.stringify(x)) as never;

describe('TUF keys', () => {
  for (const algorithm of ['ed25519', 'ec-p256'] as const) {
    it(`${algorithm}: key id is SHA-256 of the canonical key (checked with @tufjs/canonical-json) and tuf-js verifies the signature`, async () => {
      const handle = await new TestKeyStore().generate(`k-${algorithm}`, algorithm);
      const key = tufPublicKey(handle);
      const keyId = tufKeyId(key);
      assert.equal(keyId, createHash('sha256').update(canonicalize(key)).digest('hex'));
      const signed = { _type: 'timestamp', spec_version: TUF_SPEC_VERSION, version: 1, expires: tufExpiry(Date.now() + 60_000), meta: { 'snapshot.json': { version: 1 } } };
      const root = Metadata.fromJSON(MetadataKind.Root, wire({
        signed: { _type: 'root', spec_version: TUF_SPEC_VERSION, version: 1, expires: signed.expires, consistent_snapshot: true, keys: { [keyId]: key }, roles: { root: { keyids: [keyId], threshold: 1 }, targets: { keyids: [keyId], threshold: 1 }, snapshot: { keyids: [keyId], threshold: 1 }, timestamp: { keyids: [keyId], threshold: 1 } } },
        signatures: [],
      }));
      const good = Metadata.fromJSON(MetadataKind.Timestamp, wire({ signed, signatures: [signTuf(signed, handle, keyId)] }));
      root.verifyDelegate('timestamp', good);
      const tampered = Metadata.fromJSON(MetadataKind.Timestamp, wire({ signed: { ...signed, version: 2 }, signatures: [signTuf(signed, handle, keyId)] }));
      assert.throws(() => root.verifyDelegate('timestamp', tampered));
    });
  }

  it('writes expiry in whole seconds with a Z', () => {
    assert.equal(tufExpiry(Date.UTC(2026, 11, 1, 0, 0, 0, 999)), '2026-12-01T00:00:00Z');
  });
});
