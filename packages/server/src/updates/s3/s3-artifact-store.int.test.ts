import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { after, before, describe, it } from 'node:test';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { MedTrustError } from '@medtrust/core';
import { S3ArtifactStore, type S3ArtifactStoreOptions } from './s3-artifact-store.ts';
import { S3RVER_CREDENTIALS, startTestS3Server, type TestS3Server } from './s3-test-server.ts';

async function codeOf(p: Promise<unknown>): Promise<{ code: string; reason: unknown; text: string }> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof MedTrustError, String(e));
    return { code: e.code, reason: e.details?.reason, text: `${e.message} ${JSON.stringify(e.details)} ${String((e as Error).cause)}` };
  }
  assert.fail('expected an error');
}

function chunks(bytes: Buffer, size: number): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) parts.push(bytes.subarray(i, i + size));
  return Readable.from(parts);
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

// Against s3rver (a fake S3 from npm) on loopback; not AWS, not MinIO. s3rver checks the access key id
// but not the SigV4 signature or Content-MD5, so a wrong secret or corrupted bytes are not tested here.
describe('S3ArtifactStore', () => {
  let s3: TestS3Server;
  let tmp: string;
  let store: S3ArtifactStore;
  let lister: S3Client;
  const PREFIX = 'fw/';
  const opts = (o: Partial<S3ArtifactStoreOptions> = {}): S3ArtifactStoreOptions => ({
    endpoint: s3.endpoint, bucket: s3.bucket, region: 'us-east-1', prefix: PREFIX, forcePathStyle: true,
    credentials: S3RVER_CREDENTIALS, tmpDir: join(tmp, 'spool'), requestTimeoutMs: 5_000, ...o,
  });
  const keys = async (): Promise<string[]> => {
    const out = await lister.send(new ListObjectsV2Command({ Bucket: s3.bucket }));
    return (out.Contents ?? []).map((c) => c.Key!).sort();
  };

  before(async () => {
    s3 = await startTestS3Server();
    tmp = mkdtempSync(join(tmpdir(), 'medtrust-s3-store-'));
    store = new S3ArtifactStore(opts());
    lister = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { ...S3RVER_CREDENTIALS } });
  });
  after(async () => {
    store.close();
    lister.destroy();
    await s3.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  describe('when the bytes are streamed in', () => {
    it('stores them under their SHA-256 with SHA-256 and SHA-512 as node:crypto computes them, and streams them back', async () => {
      const bytes = randomBytes(3 * 1024 * 1024 + 17);
      const stored = await store.put(chunks(bytes, 64 * 1024), 8 * 1024 * 1024);
      assert.equal(stored.sha256, createHash('sha256').update(bytes).digest('hex'));
      assert.equal(stored.sha512, createHash('sha512').update(bytes).digest('hex'));
      assert.equal(stored.length, bytes.length);
      assert.ok(await store.has(stored.sha256));
      assert.ok((await keys()).includes(`${PREFIX}sha256/${stored.sha256.slice(0, 2)}/${stored.sha256}`));
      const back = await store.open(stored.sha256);
      assert.ok(back);
      assert.ok((await buffer(back)).equals(bytes));
      assert.deepEqual(readdirSync(join(tmp, 'spool')), [], 'the spool file is deleted');
    });

    it('stores identical bytes once', async () => {
      const bytes = Buffer.from('the same firmware twice');
      const before = (await keys()).length;
      const a = await store.put(bytes, 1024);
      const b = await store.put(Readable.from([bytes]), 1024);
      assert.deepEqual(a, b);
      assert.equal((await keys()).length, before + 1);
    });

    it('answers absent and malformed hashes with undefined / false', async () => {
      const absent = createHash('sha256').update('never stored').digest('hex');
      assert.equal(await store.open(absent), undefined);
      assert.equal(await store.has(absent), false);
      assert.equal(await store.has('../../etc/passwd'), false);
      assert.equal(await store.open('ABC'), undefined);
    });
  });

  describe('when the artifact is too large or empty', () => {
    it('refuses past maxBytes with ARTIFACT_TOO_LARGE and keeps nothing', async () => {
      const before = await keys();
      const e = await codeOf(store.put(chunks(randomBytes(300_000), 16_384), 100_000));
      assert.equal(e.code, 'ARTIFACT_TOO_LARGE');
      assert.deepEqual(await keys(), before);
      assert.deepEqual(readdirSync(join(tmp, 'spool')), []);
    });

    it('refuses an empty artifact with ARTIFACT_EMPTY', async () => {
      assert.equal((await codeOf(store.put(Buffer.alloc(0), 10))).code, 'ARTIFACT_EMPTY');
    });
  });

  describe('when S3 refuses or is away', () => {
    it('a wrong access key id is ARTIFACT_STORE_UNAVAILABLE (credentials), the secret never in the error', async () => {
      const secret = 'not-the-secret-4f9d2c';
      const bad = new S3ArtifactStore(opts({ credentials: { accessKeyId: 'NOBODY', secretAccessKey: secret } }));
      try {
        const e = await codeOf(bad.put(Buffer.from('x'), 10));
        assert.equal(e.code, 'ARTIFACT_STORE_UNAVAILABLE');
        assert.equal(e.reason, 'credentials');
        assert.ok(!e.text.includes(secret));
        assert.equal((await codeOf(bad.open(createHash('sha256').update('x').digest('hex')))).reason, 'credentials');
      } finally {
        bad.close();
      }
    });

    it('a missing bucket is ARTIFACT_STORE_UNAVAILABLE (bucket)', async () => {
      const bad = new S3ArtifactStore(opts({ bucket: 'no-such-bucket' }));
      try {
        const e = await codeOf(bad.put(Buffer.from('y'), 10));
        assert.equal(e.code, 'ARTIFACT_STORE_UNAVAILABLE');
        assert.equal(e.reason, 'bucket');
        assert.match(e.text, /MEDTRUST_S3_BUCKET/);
      } finally {
        bad.close();
      }
    });

    it('an endpoint nobody listens on is ARTIFACT_STORE_UNAVAILABLE (unreachable)', async () => {
      const bad = new S3ArtifactStore(opts({ endpoint: `http://127.0.0.1:${await freePort()}` }));
      try {
        const e = await codeOf(bad.put(Buffer.from('z'), 10));
        assert.equal(e.code, 'ARTIFACT_STORE_UNAVAILABLE');
        assert.equal(e.reason, 'unreachable');
        assert.match(e.text, /MEDTRUST_S3_ENDPOINT/);
        assert.equal((await codeOf(bad.has(createHash('sha256').update('z').digest('hex')))).code, 'ARTIFACT_STORE_UNAVAILABLE');
      } finally {
        bad.close();
      }
    });
  });
});
