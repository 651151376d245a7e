import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { main } from '../main.ts';
import type { Output } from '../output.ts';

function capture(): Output & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, isTty: false, out: (l) => void lines.push(l), err: (l) => void errors.push(l) };
}

describe('medtrust fhir push (SQLite data dir)', () => {
  let dir: string;
  let env: Record<string, string>;
  let tenant: string;
  const run = async (...args: string[]) => {
    const o = capture();
    const code = await main(['node', 'medtrust', ...args], env, o);
    return { code, o };
  };
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'medtrust-cli-fhir-'));
    env = { MEDTRUST_DATA_DIR: join(dir, 'data'), MEDTRUST_MASTER_KEY: 'cli test master key 0123', MEDTRUST_LOG_LEVEL: 'error', EHR_AUTH: 'Bearer cli-ehr-secret' };
    const t = await run('tenant', 'create', '--kind', 'customer', '--name', 'St Elsewhere');
    assert.equal(t.code, 0, t.o.errors.join('\n'));
    tenant = t.o.lines[0]!;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('configures a tenant\'s endpoint with the credential from the environment, never printing it', async () => {
    assert.equal((await run('fhir', 'push', 'status', '--tenant', tenant)).code, 2, 'none yet');
    const c = await run('fhir', 'push', 'configure', '--tenant', tenant, '--url', 'https://ehr.example.org/fhir', '--authorization-env', 'EHR_AUTH', '--json');
    assert.equal(c.code, 0, c.o.errors.join('\n'));
    assert.equal((JSON.parse(c.o.lines[0]!) as { baseUrl: string }).baseUrl, 'https://ehr.example.org/fhir');
    const s = await run('fhir', 'push', 'status', '--tenant', tenant);
    assert.match(s.o.lines[0]!, /^https:\/\/ehr\.example\.org\/fhir {2}backlog 0/);
    assert.ok(![...c.o.lines, ...s.o.lines].join('\n').includes('cli-ehr-secret'));
  });

  it('exits 2 with a code for a bad URL, an unset credential variable or an unknown tenant', async () => {
    const bad = await run('fhir', 'push', 'configure', '--tenant', tenant, '--url', 'http://ehr.example.org/fhir');
    assert.equal(bad.code, 2);
    assert.match(bad.o.errors.join('\n'), /FHIR_ENDPOINT_INVALID/);
    assert.match((await run('fhir', 'push', 'configure', '--tenant', tenant, '--url', 'https://x.example', '--authorization-env', 'NOPE')).o.errors.join('\n'), /FHIR_ENDPOINT_INVALID/);
    assert.match((await run('fhir', 'push', 'configure', '--tenant', 'ten_nope', '--url', 'https://x.example')).o.errors.join('\n'), /TENANT_UNKNOWN/);
    assert.match((await run('fhir', 'push', 'status', '--tenant', tenant)).o.lines[0]!, /ehr\.example\.org/, 'unchanged');
  });
});
