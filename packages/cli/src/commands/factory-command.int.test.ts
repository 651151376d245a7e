import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
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

describe('medtrust init and factory provision (SQLite data dir, real OpenSSL)', () => {
  let dir: string;
  let env: Record<string, string>;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'medtrust-cli-factory-'));
    env = { MEDTRUST_DATA_DIR: join(dir, 'data'), MEDTRUST_MASTER_KEY: 'cli test master key 0123', MEDTRUST_LOG_LEVEL: 'error' };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('init prints every CA and signer with its fingerprint, the same on a second run', async () => {
    const o1 = capture();
    assert.equal(await main(['node', 'medtrust', 'init', '--json'], env, o1), 0);
    const first = JSON.parse(o1.lines[0] as string) as { cas: Array<{ name: string; sha256Fingerprint: string; created: boolean }> };
    assert.equal(first.cas.length, 7);
    assert.ok(first.cas.every((c) => c.created && /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/.test(c.sha256Fingerprint)));
    const o2 = capture();
    assert.equal(await main(['node', 'medtrust', 'init', '--json'], env, o2), 0);
    const second = JSON.parse(o2.lines[0] as string) as typeof first;
    assert.deepEqual(second.cas.map((c) => [c.name, c.sha256Fingerprint, c.created]), first.cas.map((c) => [c.name, c.sha256Fingerprint, false]));
    // The key store holds no clear key, and the wrong master key cannot use it.
    const o3 = capture();
    await main(['node', 'medtrust', 'factory', 'provision', '--model', 'X', '--hw-rev', '1', '--count', '1', '--out', join(dir, 'nope')], { ...env, MEDTRUST_MASTER_KEY: 'a different master key!' }, o3);
    assert.match(o3.errors.join('\n'), /CA_KEY_LOCKED/);
  });

  it('provisions with generated keys: chain.pem verifies with openssl, key.pem is 0600 and matches', async () => {
    const out = join(dir, 'out');
    const o = capture();
    assert.equal(await main(['node', 'medtrust', 'factory', 'provision', '--model', 'InfuPump 5', '--hw-rev', 'B', '--count', '3', '--out', out, '--serial-prefix', 'IP5-', '--json'], env, o), 0, o.errors.join('\n'));
    const r = JSON.parse(o.lines[0] as string) as { batchId: string; devices: Array<{ serial: string; dir: string }> };
    assert.deepEqual(r.devices.map((d) => d.serial), ['IP5-000001', 'IP5-000002', 'IP5-000003']);
    for (const d of r.devices) {
      const chain = join(d.dir, 'chain.pem');
      const key = join(d.dir, 'key.pem');
      assert.equal(statSync(key).mode & 0o777, 0o600);
      // -partial_chain off: the root in chain.pem is the trust anchor, the CA the untrusted link.
      const certs = readFileSync(chain, 'utf8').split(/(?=-----BEGIN CERTIFICATE-----)/);
      assert.equal(certs.length, 3);
      const rootFile = join(d.dir, 'root.pem');
      const caFile = join(d.dir, 'ca.pem');
      execFileSync('sh', ['-c', `printf '%s' "$1" > "${rootFile}"; printf '%s' "$2" > "${caFile}"`, 'sh', certs[2] as string, certs[1] as string]);
      assert.match(execFileSync('openssl', ['verify', '-x509_strict', '-CAfile', rootFile, '-untrusted', caFile, chain], { encoding: 'utf8' }), /OK/);
      assert.equal(execFileSync('openssl', ['x509', '-in', chain, '-noout', '-pubkey'], { encoding: 'utf8' }), execFileSync('openssl', ['pkey', '-in', key, '-pubout'], { encoding: 'utf8' }));
    }
    // Serials continue after the highest existing one.
    const o2 = capture();
    assert.equal(await main(['node', 'medtrust', 'factory', 'provision', '--model', 'InfuPump 5', '--hw-rev', 'B', '--count', '1', '--out', out, '--serial-prefix', 'IP5-', '--json'], env, o2), 0);
    assert.equal((JSON.parse(o2.lines[0] as string) as typeof r).devices[0]?.serial, 'IP5-000004');
  });

  it('issues for a CSR directory (file name = serial) and refuses a bad CSR with its code', async () => {
    const csrDir = join(dir, 'csrs');
    mkdirSync(csrDir);
    for (const serial of ['MON-7', 'MON-8']) execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, `${serial}.key`), '-subj', '/CN=dev', '-out', join(csrDir, `${serial}.csr`)], { stdio: 'pipe' });
    const o = capture();
    assert.equal(await main(['node', 'medtrust', 'factory', 'provision', '--model', 'VitalMon', '--hw-rev', '2', '--csr-dir', csrDir, '--out', join(dir, 'out2')], env, o), 0, o.errors.join('\n'));
    assert.match(o.lines.join('\n'), /provisioned 2 VitalMon devices/);
    assert.throws(() => statSync(join(dir, 'out2', 'MON-7', 'key.pem')));
    execFileSync('sh', ['-c', `head -c 100 "${join(csrDir, 'MON-7.csr')}" > "${join(csrDir, 'MON-9.csr')}"`]);
    const bad = capture();
    assert.equal(await main(['node', 'medtrust', 'factory', 'provision', '--model', 'VitalMon2', '--hw-rev', '2', '--csr-dir', csrDir, '--out', join(dir, 'out3')], env, bad), 2);
    assert.match(bad.errors.join('\n'), /CSR_INVALID/);
  });
});
