import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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

const EXAMPLES = join(import.meta.dirname, '../../../server/src/policy/examples');

describe('medtrust policy (SQLite data dir)', () => {
  let dir: string;
  let env: Record<string, string>;
  const run = async (...args: string[]) => {
    const o = capture();
    const code = await main(['node', 'medtrust', 'policy', ...args], env, o);
    return { code, o };
  };
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'medtrust-cli-policy-'));
    env = { MEDTRUST_DATA_DIR: join(dir, 'data'), MEDTRUST_MASTER_KEY: 'cli test master key 0123', MEDTRUST_LOG_LEVEL: 'error' };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('applies an example as version 1 then 2, lists it, dry-runs it and shows no decisions yet', async () => {
    const a1 = await run('apply', join(EXAMPLES, 'kev-quarantine.yaml'), '--json');
    assert.equal(a1.code, 0, a1.o.errors.join('\n'));
    assert.equal((JSON.parse(a1.o.lines[0] as string) as { version: number }).version, 1);
    const a2 = await run('apply', join(EXAMPLES, 'kev-quarantine.yaml'));
    assert.match(a2.o.lines[0] as string, /version 2 enabled/);
    const l = await run('list', '--json');
    assert.deepEqual((JSON.parse(l.o.lines[0] as string) as Array<{ name: string; version: number }>).map((p) => [p.name, p.version]), [['kev-quarantine', 2]]);
    const d = await run('dry-run', join(EXAMPLES, 'firmware-minimum.yaml'));
    assert.equal(d.code, 0);
    assert.match(d.o.lines.at(-1) as string, /^0 devices would be affected/);
    const decisions = await run('decisions', '--json');
    assert.deepEqual(JSON.parse(decisions.o.lines[0] as string), []);
  });

  it('exits 2 with POLICY_INVALID on a YAML error or an unknown fact, and stores nothing', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'name: x\ntrigger: { event: device.connect\n');
    const r1 = await run('apply', bad);
    assert.equal(r1.code, 2);
    assert.match(r1.o.errors.join('\n'), /POLICY_INVALID/);
    writeFileSync(bad, 'name: x\ntrigger: { event: device.connect }\nrules:\n  - name: r\n    when: { fact: device.colour, eq: red }\n    actions: [{ kind: deny }]\n');
    assert.equal((await run('dry-run', bad)).code, 2);
    assert.equal((await run('apply', join(dir, 'missing.yaml'))).code, 2);
    assert.equal((await run('decisions', '--limit', '0')).code, 2);
    const l = await run('list', '--json');
    assert.equal((JSON.parse(l.o.lines[0] as string) as unknown[]).length, 1);
  });
});
