import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MedTrustError } from '@medtrust/core';
import { loadConfig } from './load-config.ts';

function settingOf(fn: () => unknown): { setting: unknown; message: string } {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof MedTrustError);
    assert.equal(e.code, 'CONFIG_INVALID');
    return { setting: e.details?.setting, message: e.message };
  }
  assert.fail('expected CONFIG_INVALID');
}

const S3 = { MEDTRUST_ARTIFACT_STORE: 's3', MEDTRUST_S3_BUCKET: 'medtrust-fw' };

describe('artifact store config', () => {
  it('is the data dir by default', () => {
    assert.deepEqual(loadConfig({}, '/srv').artifactStore, { kind: 'file' });
  });

  it('reads the S3 settings, with path style on for a custom endpoint and a prefix ending in /', () => {
    const c = loadConfig({ ...S3, MEDTRUST_S3_ENDPOINT: 'http://127.0.0.1:9000/', MEDTRUST_S3_REGION: 'eu-central-1', MEDTRUST_S3_PREFIX: 'prod/fw', MEDTRUST_S3_ACCESS_KEY_ID: 'AK', MEDTRUST_S3_SECRET_ACCESS_KEY: 'SK' }, '/srv');
    assert.deepEqual(c.artifactStore, { kind: 's3', endpoint: 'http://127.0.0.1:9000', bucket: 'medtrust-fw', region: 'eu-central-1', prefix: 'prod/fw/', forcePathStyle: true, credentials: { accessKeyId: 'AK', secretAccessKey: 'SK' } });
    assert.ok(Object.isFrozen(c.artifactStore));
  });

  it('defaults to AWS: us-east-1, virtual-hosted style, the SDK credential chain', () => {
    assert.deepEqual(loadConfig(S3, '/srv').artifactStore, { kind: 's3', endpoint: undefined, bucket: 'medtrust-fw', region: 'us-east-1', prefix: '', forcePathStyle: false, credentials: undefined });
    const c = loadConfig({ ...S3, MEDTRUST_S3_FORCE_PATH_STYLE: 'true' }, '/srv').artifactStore;
    assert.ok(c.kind === 's3' && c.forcePathStyle);
  });

  describe('when a setting is bad', () => {
    it('names the setting', () => {
      assert.equal(settingOf(() => loadConfig({ MEDTRUST_ARTIFACT_STORE: 'ftp' })).setting, 'MEDTRUST_ARTIFACT_STORE');
      assert.equal(settingOf(() => loadConfig({ MEDTRUST_ARTIFACT_STORE: 's3' })).setting, 'MEDTRUST_S3_BUCKET');
      assert.equal(settingOf(() => loadConfig({ ...S3, MEDTRUST_S3_BUCKET: 'Bad_Bucket' })).setting, 'MEDTRUST_S3_BUCKET');
      assert.equal(settingOf(() => loadConfig({ ...S3, MEDTRUST_S3_ENDPOINT: 'ftp://x' })).setting, 'MEDTRUST_S3_ENDPOINT');
      assert.equal(settingOf(() => loadConfig({ ...S3, MEDTRUST_S3_ENDPOINT: 'not a url' })).setting, 'MEDTRUST_S3_ENDPOINT');
      assert.equal(settingOf(() => loadConfig({ ...S3, MEDTRUST_S3_REGION: 'Mars 1' })).setting, 'MEDTRUST_S3_REGION');
      assert.equal(settingOf(() => loadConfig({ ...S3, MEDTRUST_S3_PREFIX: '/abs' })).setting, 'MEDTRUST_S3_PREFIX');
      assert.equal(settingOf(() => loadConfig({ ...S3, MEDTRUST_S3_PREFIX: 'a/../b' })).setting, 'MEDTRUST_S3_PREFIX');
      assert.equal(settingOf(() => loadConfig({ ...S3, MEDTRUST_S3_FORCE_PATH_STYLE: 'yes' })).setting, 'MEDTRUST_S3_FORCE_PATH_STYLE');
      assert.equal(settingOf(() => loadConfig({ ...S3, MEDTRUST_S3_ACCESS_KEY_ID: 'AK' })).setting, 'MEDTRUST_S3_SECRET_ACCESS_KEY');
      assert.equal(settingOf(() => loadConfig({ ...S3, MEDTRUST_S3_SECRET_ACCESS_KEY: 'SK' })).setting, 'MEDTRUST_S3_ACCESS_KEY_ID');
    });

    it('refuses credentials in the endpoint URL without repeating them', () => {
      const e = settingOf(() => loadConfig({ ...S3, MEDTRUST_S3_ENDPOINT: 'https://AKID:topsecret@s3.example.org' }));
      assert.equal(e.setting, 'MEDTRUST_S3_ENDPOINT');
      assert.ok(!e.message.includes('topsecret'));
    });
  });
});
