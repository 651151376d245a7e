import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { MedTrustError } from '@medtrust/core';
import { loadConfig } from './load-config.ts';

function settingOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof MedTrustError);
    assert.equal(e.code, 'CONFIG_INVALID');
    return e.details?.setting as string;
  }
  assert.fail('expected CONFIG_INVALID');
}

describe('loadConfig', () => {
  it('gives the documented defaults', () => {
    const c = loadConfig({}, '/srv');
    assert.equal(c.dataDir, '/srv/data');
    assert.equal(c.httpPort, 8080);
    assert.equal(c.httpsPort, 8443);
    assert.equal(c.mqttPort, 8883);
    assert.equal(c.publicUrl, 'http://localhost:8080');
    assert.equal(c.databaseUrl, undefined);
    assert.equal(c.ldevidValidityDays, 365);
    assert.ok(Object.isFrozen(c));
  });

  it('reads MEDTRUST_* over a config file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    writeFileSync(join(dir, 'c.json'), JSON.stringify({ httpPort: 9000, MEDTRUST_HTTPS_PORT: '9443', publicUrl: 'https://mt.example.org/' }));
    const c = loadConfig({ MEDTRUST_CONFIG_FILE: 'c.json', MEDTRUST_HTTP_PORT: '9001' }, dir);
    assert.equal(c.httpPort, 9001);
    assert.equal(c.httpsPort, 9443);
    assert.equal(c.publicUrl, 'https://mt.example.org');
  });

  describe('when a setting is bad', () => {
    it('names the setting', () => {
      assert.equal(settingOf(() => loadConfig({ MEDTRUST_HTTP_PORT: '70000' })), 'MEDTRUST_HTTP_PORT');
      assert.equal(settingOf(() => loadConfig({ MEDTRUST_DATABASE_URL: 'mysql://x' })), 'MEDTRUST_DATABASE_URL');
      assert.equal(settingOf(() => loadConfig({ MEDTRUST_LOG_LEVEL: 'loud' })), 'MEDTRUST_LOG_LEVEL');
      assert.equal(settingOf(() => loadConfig({ MEDTRUST_MASTER_KEY: 'short' })), 'MEDTRUST_MASTER_KEY');
      assert.equal(settingOf(() => loadConfig({ MEDTRUST_KEYSTORE: 'pkcs11' })), 'MEDTRUST_PKCS11_LIBRARY');
      assert.equal(settingOf(() => loadConfig({ MEDTRUST_LDEVID_VALIDITY_DAYS: '-1' })), 'MEDTRUST_LDEVID_VALIDITY_DAYS');
      assert.equal(settingOf(() => loadConfig({ MEDTRUST_NODE_NAME: 'node a/1' })), 'MEDTRUST_NODE_NAME');
    });

    it('refuses unknown keys in the file', () => {
      const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
      writeFileSync(join(dir, 'c.json'), JSON.stringify({ htpPort: 1 }));
      assert.equal(settingOf(() => loadConfig({ MEDTRUST_CONFIG_FILE: 'c.json' }, dir)), 'MEDTRUST_CONFIG_FILE');
    });
  });
});
