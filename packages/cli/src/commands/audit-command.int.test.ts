import 'reflect-metadata';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { keyIdOf, loadConfig, Platform, proofFromJson, verifyInclusionProof } from '@medtrust/server';
import { sql } from 'kysely';
import { createTestDatabase, TEST_DIALECTS, type TestDatabase } from '../../../server/src/db/testing.ts';
import { Command } from 'commander';
import { createContext } from '../context.ts';
import { main } from '../main.ts';
import { registerUser } from './user-command.ts';

for (const dialect of TEST_DIALECTS) {
  describe(`medtrust audit / tenant / user / token (${dialect})`, () => {
    let t: TestDatabase;
    let env: Record<string, string>;
    let out: string[];
    let err: string[];
    const output = { out: (l: string) => void out.push(l), err: (l: string) => void err.push(l), isTty: false };
    const run = (...argv: string[]): Promise<number> => main(['node', 'medtrust', ...argv], env, output);

    before(async () => {
      t = await createTestDatabase(dialect);
      env = { MEDTRUST_DATA_DIR: t.dataDir, MEDTRUST_LOG_LEVEL: 'silent', MEDTRUST_MASTER_KEY: 'test-master-key-0123456789', ...(t.url ? { MEDTRUST_DATABASE_URL: t.url } : {}) };
      const p = await Platform.open({ config: loadConfig(env) });
      await p.services.tenants.ensureOperator();
      await p.services.audit.appendMany(Array.from({ length: 30 }, (_, i) => ({ actor: 'system', action: 'test.event', target: `x:${i}`, details: { i } })));
      await p.stop();
    });
    after(() => t.close());
    beforeEach(() => {
      out = [];
      err = [];
    });

    it('manages tenants, users and tokens', async () => {
      assert.equal(await run('tenant', 'create', '--kind', 'customer', '--name', 'St Elsewhere', '--time-zone', 'Europe/Berlin'), 0, err.join('\n'));
      const customer = out[0]!;
      assert.match(customer, /^ten_/);
      assert.equal(await run('tenant', 'create', '--kind', 'site', '--name', 'North', '--parent', customer, '--json'), 0);
      assert.equal(JSON.parse(out[1]!).parentId, customer);
      assert.equal(await run('tenant', 'create', '--kind', 'site', '--name', 'Orphan'), 2);
      assert.match(err.join('\n'), /TENANT_INVALID/);
      out = [];
      assert.equal(await run('tenant', 'list'), 0);
      assert.equal(out.length, 3);
      out = [];
      assert.equal(await run('user', 'create', '--email', 'admin@st.example', '--role', 'hospital-admin', '--tenant', customer), 0, err.join('\n'));
      assert.match(out[0]!, /^usr_/);
      assert.match(out[1]!, /^password \(shown once\): \S{20,}$/);
      assert.equal(await run('user', 'create', '--email', 'admin@st.example', '--role', 'hospital-admin', '--tenant', customer), 2);
      assert.match(err.join('\n'), /USER_EXISTS/);
      // --password-stdin: the password comes from stdin (injected here), and only it logs in.
      const program = new Command('medtrust').exitOverride();
      registerUser(program, createContext(env, output), async () => 'a passphrase from stdin');
      out = [];
      await program.parseAsync(['node', 'medtrust', 'user', 'create', '--email', 'stdin@st.example', '--role', 'biomed', '--tenant', customer, '--password-stdin']);
      assert.equal(out.length, 1, 'no generated password printed');
      const p = await Platform.open({ config: loadConfig(env) });
      try {
        assert.equal((await p.services.users.checkPassword('stdin@st.example', 'a passphrase from stdin', { ip: '127.0.0.1' })).tenantId, customer);
      } finally {
        await p.stop();
      }
      out = [];
      assert.equal(await run('token', 'create', '--role', 'biomed', '--tenant', customer, '--json'), 0);
      const tok = JSON.parse(out[0]!) as { id: string };
      assert.equal(await run('token', 'revoke', tok.id), 0);
      assert.equal(await run('token', 'revoke', tok.id), 2);
      assert.match(err.join('\n'), /TOKEN_NOT_FOUND/);
    });

    it('checkpoints, proves, exports, and verifies an intact log', async () => {
      assert.equal(await run('audit', 'checkpoint'), 0, err.join('\n'));
      const cp = JSON.parse(out[0]!) as { treeSize: number; keyId: string; algorithm: string };
      assert.ok(cp.treeSize >= 30);
      assert.equal(cp.algorithm, 'ed25519');
      out = [];
      assert.equal(await run('audit', 'proof', '--seq', '7', '--json'), 0, err.join('\n'));
      const proofJson = JSON.parse(out[0]!) as { verified: boolean };
      assert.equal(proofJson.verified, true);
      // Verify independently with the key from the key store (not from the CLI's answer).
      const p = await Platform.open({ config: loadConfig(env) });
      const key = (await p.services.auditKeys.trusted())[0]!;
      await p.stop();
      assert.equal(keyIdOf(key), cp.keyId);
      assert.deepEqual(verifyInclusionProof(proofFromJson(proofJson), key), { ok: true });
      out = [];
      const file = join(t.dataDir, 'audit.jsonl');
      assert.equal(await run('audit', 'export', '--format', 'jsonl', '--since', '5', '--out', file), 0);
      const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { seq: number });
      assert.equal(lines[0]!.seq, 6);
      assert.deepEqual(lines.map((l) => l.seq), lines.map((_, i) => i + 6));
      assert.equal(await run('audit', 'export', '--format', 'syslog', '--since', '29'), 0);
      assert.match(out[0]!, /^<110>1 \S+Z \S+ medtrust \d+ test\.event \[medtrust@32473 seq="30" /);
      assert.equal(await run('audit', 'export', '--format', 'csv'), 2);
      assert.match(err.join('\n'), /AUDIT_FORMAT_UNKNOWN/);
      out = [];
      assert.equal(await run('audit', 'verify'), 0, out.join('\n') + err.join('\n'));
      assert.match(out[0]!, /^ok: \d+ entries, 1 signed checkpoints verified/);
    });

    it('exits non-zero and names the first bad entry after an edit and a reorder', async () => {
      await sql`update audit_entry set outcome = 'denied' where seq = 12`.execute(t.db);
      assert.equal(await run('audit', 'verify', '--json'), 2);
      const r = JSON.parse(out[0]!) as { ok: boolean; problem: { seq: number; kind: string } };
      assert.deepEqual([r.ok, r.problem.seq, r.problem.kind], [false, 12, 'hash-mismatch']);
      assert.match(err.join('\n'), /AUDIT_TAMPERED/);
      await sql`update audit_entry set outcome = 'success' where seq = 12`.execute(t.db);
      await sql`update audit_entry set seq = -1 where seq = 3`.execute(t.db);
      await sql`update audit_entry set seq = 3 where seq = 4`.execute(t.db);
      await sql`update audit_entry set seq = 4 where seq = -1`.execute(t.db);
      out = [];
      assert.equal(await run('audit', 'verify'), 2);
      assert.match(out[0]!, /^FAILED at seq 3 \(prev-hash-mismatch\)/);
      assert.equal(await run('audit', 'proof', '--seq', '999'), 2);
      assert.match(err.join('\n'), /AUDIT_ENTRY_NOT_FOUND/);
    });
  });
}
