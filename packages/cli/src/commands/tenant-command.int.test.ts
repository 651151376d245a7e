import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { isMedTrustError } from '@medtrust/core';
import { loadConfig, Platform } from '@medtrust/server';
import { Command } from 'commander';
import { createTestDatabase, TEST_DIALECTS, type TestDatabase } from '../../../server/src/db/testing.ts';
import { createContext } from '../context.ts';
import { main } from '../main.ts';
import { registerTenant } from './tenant-command.ts';

const SECRET = 'client-secret-from-stdin-0123456789';

for (const dialect of TEST_DIALECTS) {
  describe(`medtrust tenant sso (${dialect})`, () => {
    let t: TestDatabase;
    let env: Record<string, string>;
    let out: string[];
    let err: string[];
    let hospital = '';
    const output = { out: (l: string) => void out.push(l), err: (l: string) => void err.push(l), isTty: false };
    const run = (...argv: string[]): Promise<number> => main(['node', 'medtrust', ...argv], env, output);
    /** `tenant sso add` with the secret on (injected) stdin. */
    const add = async (...argv: string[]): Promise<void> => {
      const program = new Command('medtrust').exitOverride();
      registerTenant(program, createContext(env, output), async () => SECRET);
      await program.parseAsync(['node', 'medtrust', 'tenant', 'sso', 'add', ...argv]);
    };

    before(async () => {
      t = await createTestDatabase(dialect);
      env = { MEDTRUST_DATA_DIR: t.dataDir, MEDTRUST_LOG_LEVEL: 'silent', MEDTRUST_PUBLIC_URL: 'https://medtrust.h.example', ...(t.url ? { MEDTRUST_DATABASE_URL: t.url } : {}) };
      const p = await Platform.open({ config: loadConfig(env) });
      await p.services.tenants.ensureOperator();
      hospital = await p.services.tenants.create({ kind: 'customer', name: 'St Example' });
      await p.stop();
    });
    after(() => t.close());
    beforeEach(() => {
      out = [];
      err = [];
    });

    it('adds a provider with the secret from stdin, prints the redirect URI and login link, lists and disables it', async () => {
      await add('--tenant', hospital, '--name', 'Entra', '--issuer', 'https://login.microsoftonline.com/abc/v2.0', '--client-id', 'cid', '--domain', 'h.example', '--domain', 'clinic.h.example', '--role-claim', 'groups', '--map', 'icu=clinician', '--map', 'bio=med=biomed');
      const id = out[0]!;
      assert.match(id, /^idp_/);
      assert.equal(out[1], 'redirect URI to register at the provider: https://medtrust.h.example/api/v1/auth/oidc/callback');
      assert.equal(out[2], `login link for users: https://medtrust.h.example/api/v1/auth/oidc/${id}/login`);
      out = [];
      assert.equal(await run('tenant', 'sso', 'list', '--json'), 0, err.join('\n'));
      assert.equal(out.length, 1);
      const listed = JSON.parse(out[0]!) as { roleMap: Record<string, string>; allowedDomains: string[]; enabled: boolean };
      assert.deepEqual(listed.roleMap, { icu: 'clinician', 'bio=med': 'biomed' }, 'the last = splits value from role');
      assert.deepEqual(listed.allowedDomains, ['h.example', 'clinic.h.example']);
      assert.ok(!out[0]!.includes(SECRET), 'the secret is never printed');
      out = [];
      assert.equal(await run('tenant', 'sso', 'disable', id), 0);
      assert.equal(await run('tenant', 'sso', 'list', '--tenant', hospital), 0);
      assert.match(out[1]!, /\tdisabled\t/);
      // The sealed secret opens to what stdin gave (forLogin refuses disabled providers, so read a fresh one).
      await add('--tenant', hospital, '--name', 'Second', '--issuer', 'https://idp.h.example', '--client-id', 'c2', '--domain', 'h.example', '--default-role', 'clinician');
      const p = await Platform.open({ config: loadConfig(env) });
      try {
        assert.equal((await p.services.sso.providers.forLogin(out[out.length - 3]!)).clientSecret, SECRET);
      } finally {
        await p.stop();
      }
    });

    it('refuses bad settings with a coded error, and an unknown provider', async () => {
      await assert.rejects(add('--tenant', hospital, '--name', 'x', '--issuer', 'http://idp.example.org', '--client-id', 'c', '--domain', 'h.example', '--default-role', 'clinician'), (e) => isMedTrustError(e) && e.code === 'SSO_PROVIDER_INVALID');
      await assert.rejects(add('--tenant', hospital, '--name', 'x', '--issuer', 'https://idp.h.example', '--client-id', 'c', '--domain', 'h.example', '--default-role', 'operator-admin'), (e) => isMedTrustError(e) && e.code === 'SSO_PROVIDER_INVALID');
      assert.equal(await run('tenant', 'sso', 'disable', 'idp_unknown'), 2);
      assert.match(err.join('\n'), /SSO_PROVIDER_NOT_FOUND/);
    });
  });
}
