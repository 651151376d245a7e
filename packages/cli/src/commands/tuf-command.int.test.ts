import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
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

describe('medtrust tuf with a separate root key store', () => {
  let dir: string;
  let env: Record<string, string>;
  let rootDir: string;
  const run = async (extra: Record<string, string>, ...args: string[]) => {
    const o = capture();
    const code = await main(['node', 'medtrust', ...args], { ...env, ...extra }, o);
    return { code, o };
  };
  const rootFiles = (d: string): string[] => (existsSync(join(d, 'keys')) ? readdirSync(join(d, 'keys')).filter((f) => f.startsWith('tuf-offline.root.')) : []);
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'medtrust-cli-tuf-'));
    rootDir = join(dir, 'root-store');
    env = { MEDTRUST_DATA_DIR: join(dir, 'data'), MEDTRUST_MASTER_KEY: 'cli test master key 0123', MEDTRUST_LOG_LEVEL: 'error' };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the repository with root keys only in the root store; the platform store holds none', async () => {
    const pass = { MEDTRUST_TUF_ROOT_PASSPHRASE: 'a long root store passphrase' };
    const noPass = await run({}, 'tuf', 'init', '--root-key-dir', rootDir);
    assert.deepEqual([noPass.code, noPass.o.errors[0]?.split(':')[0]], [2, 'error TUF_ROOT_KEYS_UNAVAILABLE']);
    const init = await run(pass, 'tuf', 'init', '--root-key-dir', rootDir, '--json');
    assert.equal(init.code, 0, init.o.errors.join('\n'));
    assert.deepEqual(JSON.parse(init.o.lines[0]!), { created: true });
    assert.equal((await run({}, 'init')).code, 0);
    assert.equal(rootFiles(rootDir).length, 2);
    assert.deepEqual(rootFiles(join(dir, 'data')), [], 'no root key in the platform key store');
    // Without the root store the process cannot sign a root.
    const online = await run({}, 'tuf', 'rotate-root');
    assert.deepEqual([online.code, online.o.errors[0]?.split(':')[0]], [2, 'error TUF_ROOT_KEYS_UNAVAILABLE']);
    const rotated = await run(pass, 'tuf', 'rotate-root', '--root-key-dir', rootDir, '--keys', '3', '--json');
    assert.equal(rotated.code, 0, rotated.o.errors.join('\n'));
    assert.equal((JSON.parse(rotated.o.lines[0]!) as { version: number }).version, 2);
    assert.equal(rootFiles(rootDir).length, 5);
    assert.deepEqual(rootFiles(join(dir, 'data')), []);
  });
});
