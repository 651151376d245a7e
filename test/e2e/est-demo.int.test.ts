// `medtrust demo` as a newcomer runs it: start it, paste the printed commands into a shell.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';

const run = promisify(execFile);
const BIN = join(import.meta.dirname, '../../packages/cli/bin/medtrust.js');

describe('medtrust demo', () => {
  let dir: string;
  let child: ReturnType<typeof spawn>;
  let printed = '';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'medtrust-demo-'));
    child = spawn(process.execPath, [BIN, 'demo'], {
      cwd: dir,
      env: { ...process.env, MEDTRUST_DATA_DIR: join(dir, 'data'), MEDTRUST_HTTP_PORT: '0', MEDTRUST_HTTPS_PORT: '0', MEDTRUST_MQTT_PORT: '0', MEDTRUST_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stderr!.on('data', (c: Buffer) => void process.stderr.write(c));
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (c: Buffer) => {
        printed += c.toString();
        if (printed.includes('Ctrl-C stops')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`demo exited with ${code}: ${printed}`)));
    });
  });
  after(async () => {
    if (child.exitCode === null) {
      child.kill('SIGINT');
      await new Promise((r) => child.once('exit', r));
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints the URLs, the admin token file and commands that enrol and re-enrol the sample device', async () => {
    assert.match(printed, /dashboard \/ REST API: http:\/\/127\.0\.0\.1:\d+/);
    const tokenFile = /admin API token:\s+(\S+)/.exec(printed)?.[1];
    assert.ok(tokenFile && readFileSync(tokenFile, 'utf8').trim().startsWith('mt_'));
    // Every command line as printed, run one after the other in a shell (stopping at the first failure).
    const commands = printed.split('\n').filter((l) => /^(curl|openssl) /.test(l)).join(' &&\n');
    assert.match(commands, /simpleenroll/);
    assert.match(commands, /simplereenroll/);
    const { stdout } = await run('bash', ['-c', `set -o pipefail\n${commands}`], { cwd: dir });
    assert.match(stdout, /ldevid\.pem: OK/);
    assert.match(stdout, /BEGIN CERTIFICATE/); // the renewed LDevID
  });

  it('stops on Ctrl-C', async () => {
    child.kill('SIGINT');
    const code = await new Promise((r) => child.once('exit', r));
    assert.equal(code, 0);
  });
});
