import 'reflect-metadata';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { loadConfig, Platform } from '@medtrust/server';
import { UpdateClient } from '../../packages/device/src/update/index.ts';
import { createTestDatabase, TEST_DIALECTS, type TestDatabase } from '../../packages/server/src/db/testing.ts';
import { S3RVER_CREDENTIALS, startTestS3Server, type TestS3Server } from '../../packages/server/src/updates/s3/s3-test-server.ts';

// The whole platform with MEDTRUST_ARTIFACT_STORE=s3 against s3rver (npm) on loopback: a release
// goes in over REST, is published, and a real TUF client (tuf-js in the device SDK) fetches the
// target from /tuf/targets, streamed out of the bucket. Not tested: AWS itself, MinIO or other servers.
for (const dialect of TEST_DIALECTS) {
  describe(`updates with the S3 artifact store (${dialect})`, () => {
    let t: TestDatabase;
    let s3: TestS3Server;
    let p: Platform;
    let base: string;
    let token: string;
    const firmware = randomBytes(256 * 1024 + 3);
    const sha256 = createHash('sha256').update(firmware).digest('hex');

    const api = async (method: string, path: string, body?: Buffer): Promise<{ status: number; json: Record<string, unknown> }> => {
      const r = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/octet-stream' } : {}) }, body: body ? new Uint8Array(body) : undefined });
      return { status: r.status, json: await r.json() as Record<string, unknown> };
    };

    before(async () => {
      s3 = await startTestS3Server();
      t = await createTestDatabase(dialect);
      const env = {
        MEDTRUST_DATA_DIR: t.dataDir, ...(t.url ? { MEDTRUST_DATABASE_URL: t.url } : {}), MEDTRUST_HTTP_PORT: '0', MEDTRUST_HTTPS_PORT: '0', MEDTRUST_MQTT_PORT: '0', MEDTRUST_LOG_LEVEL: 'silent',
        MEDTRUST_ARTIFACT_STORE: 's3', MEDTRUST_S3_ENDPOINT: s3.endpoint, MEDTRUST_S3_BUCKET: s3.bucket, MEDTRUST_S3_PREFIX: 'medtrust',
        MEDTRUST_S3_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId, MEDTRUST_S3_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
      };
      p = await Platform.open({ config: loadConfig(env) });
      base = (await p.start()).httpUrl;
      token = readFileSync(join(t.dataDir, 'admin-token'), 'utf8').trim();
      const tenantId = await p.services.tenants.ensureOperator();
      const now = Date.now();
      await p.services.db.insertInto('device').values({ id: 'dev_pump1', serial: 'PUMP-1', model: 'pump-s3', hardware_revision: 'A', tenant_id: tenantId, site_id: null, state: 'active', firmware_version: '1.0.0', batch_id: null, created_at: now, updated_at: now }).execute();
    });
    after(async () => {
      await p?.stop();
      await t?.close();
      await s3?.stop();
    });

    it('stores the upload in the bucket and serves the published target from it over /tuf', async () => {
      const created = await api('POST', '/api/v1/releases?model=pump-s3&version=1.1.0&fileName=pump.img', firmware);
      assert.equal(created.status, 201, JSON.stringify(created.json));
      const id = created.json.id as string;
      assert.equal((await api('POST', `/api/v1/releases/${id}/approve`)).status, 200);
      assert.equal((await api('POST', `/api/v1/releases/${id}/publish`)).status, 200);

      const lister = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { ...S3RVER_CREDENTIALS } });
      try {
        const listed = await lister.send(new ListObjectsV2Command({ Bucket: s3.bucket }));
        const keys = (listed.Contents ?? []).map((c) => c.Key);
        assert.ok(keys.includes(`medtrust/sha256/${sha256.slice(0, 2)}/${sha256}`), keys.join());
        assert.ok(keys.every((k) => k?.startsWith('medtrust/sha256/')), 'the model manifest goes to the bucket too');
      } finally {
        lister.destroy();
      }
      const local = join(t.dataDir, 'artifacts', 'sha256');
      assert.ok(!existsSync(local) || readdirSync(local).length === 0, 'nothing in the data dir artifact store');

      const target = await fetch(`${base}/tuf/targets/pump-s3/1.1.0/${sha256}.pump.img`);
      assert.equal(target.status, 200);
      assert.equal(target.headers.get('content-length'), String(firmware.length));
      assert.ok(Buffer.from(await target.arrayBuffer()).equals(firmware));

      // tuf-js verifies the chain of metadata and the target's length and hashes.
      const root = Buffer.from(await (await fetch(`${base}/tuf/metadata/1.root.json`)).arrayBuffer());
      const device = new UpdateClient({
        deviceId: 'dev_pump1', model: 'pump-s3', hardwareRevision: 'A', trustedRoot: root,
        metadataBaseUrl: `${base}/tuf/metadata`, targetBaseUrl: `${base}/tuf/targets`, dataDir: join(t.dataDir, 'device'),
        factory: { version: '1.0.0', releaseId: null, target: null, sha256: null }, healthCheck: async () => true,
      });
      assert.deepEqual(await device.update(), { kind: 'installed', version: '1.1.0' });
    });

    describe('when the S3 server is gone', () => {
      it('answers uploads and targets with ARTIFACT_STORE_UNAVAILABLE and keeps serving', async () => {
        await s3.stop();
        const up = await api('POST', '/api/v1/releases?model=pump-s3&version=1.2.0&fileName=pump.img', Buffer.from('pump 1.2.0'));
        assert.equal(up.status, 503);
        assert.equal((up.json.error as { code: string }).code, 'ARTIFACT_STORE_UNAVAILABLE');
        assert.ok(!JSON.stringify(up.json).includes(S3RVER_CREDENTIALS.secretAccessKey));
        const target = await fetch(`${base}/tuf/targets/pump-s3/1.1.0/${sha256}.pump.img`);
        assert.equal(target.status, 503);
        assert.equal(((await target.json()) as { error: { code: string } }).error.code, 'ARTIFACT_STORE_UNAVAILABLE');
        assert.equal((await fetch(`${base}/healthz`)).status, 200);
        assert.equal((await fetch(`${base}/tuf/metadata/timestamp.json`)).status, 200);
        assert.equal((await api('GET', '/api/v1/releases?model=pump-s3')).status, 200);
      });
    });
  });
}
