import 'reflect-metadata';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { createLogger, loadConfig, Platform } from '@medtrust/server';
import { main } from '../main.ts';
import type { Output } from '../output.ts';

const run = promisify(execFile);

function capture(): Output & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, isTty: false, out: (l) => void lines.push(l), err: (l) => void errors.push(l) };
}

async function openssl(args: readonly string[]): Promise<string> {
  try {
    const r = await run('openssl', args, { timeout: 20_000 });
    return r.stdout + r.stderr;
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    return `${err.stdout ?? ''}${err.stderr ?? ''}[exit non-zero]`;
  }
}

describe('medtrust cert revoke|show|list beside a running server (SQLite data dir, real OpenSSL)', () => {
  let dir: string;
  let env: Record<string, string>;
  let server: Platform;
  let url: string;
  let serial: string;
  let deviceId: string;
  const f = (n: string): string => join(dir, n);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'medtrust-cli-cert-'));
    env = { MEDTRUST_DATA_DIR: f('data'), MEDTRUST_MASTER_KEY: 'cli cert test master key', MEDTRUST_LOG_LEVEL: 'error', MEDTRUST_HTTP_PORT: '0', MEDTRUST_HTTPS_PORT: '0', MEDTRUST_MQTT_PORT: '0', MEDTRUST_BIND_HOST: '127.0.0.1' };
    const o = capture();
    assert.equal(await main(['node', 'medtrust', 'factory', 'provision', '--model', 'InfuPump', '--hw-rev', 'A', '--count', '1', '--out', f('out'), '--json'], env, o), 0, o.errors.join('\n'));
    const r = JSON.parse(o.lines.at(-1)!) as { devices: Array<{ id: string; certificateSerial: string; dir: string }> };
    serial = r.devices[0]!.certificateSerial;
    deviceId = r.devices[0]!.id;
    const chain = readFileSync(join(r.devices[0]!.dir, 'chain.pem'), 'utf8').split(/(?=-----BEGIN CERTIFICATE-----)/);
    writeFileSync(f('leaf.pem'), chain[0]!);
    writeFileSync(f('issuer.pem'), chain[1]!);
    writeFileSync(f('cafile.pem'), chain[1]! + chain[2]!);
    server = await Platform.open({ config: loadConfig(env), logger: createLogger({ level: 'silent' }) });
    url = (await server.start()).httpUrl;
  });
  after(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const ocsp = (): Promise<string> => openssl(['ocsp', '-issuer', f('issuer.pem'), '-cert', f('leaf.pem'), '-url', `${url}/ocsp`, '-CAfile', f('cafile.pem'), '-no_nonce']);
  const crlVerify = async (): Promise<string> => {
    const der = Buffer.from(await (await fetch(`${url}/pki/crl/manufacturing.crl`)).arrayBuffer());
    writeFileSync(f('crl.der'), der);
    await openssl(['crl', '-inform', 'DER', '-in', f('crl.der'), '-out', f('crl.pem')]);
    return openssl(['verify', '-crl_check', '-CRLfile', f('crl.pem'), '-CAfile', f('cafile.pem'), f('leaf.pem')]);
  };

  it('shows and lists the IDevID the factory issued', async () => {
    const o = capture();
    assert.equal(await main(['node', 'medtrust', 'cert', 'show', serial, '--json'], env, o), 0, o.errors.join('\n'));
    const c = JSON.parse(o.lines[0]!) as { serial: string; status: string; profile: string; caName: string; deviceId: string };
    assert.deepEqual([c.serial, c.status, c.profile, c.caName, c.deviceId], [serial, 'valid', 'idevid', 'manufacturing', deviceId]);
    const text = capture();
    assert.equal(await main(['node', 'medtrust', 'cert', 'show', serial.toUpperCase()], env, text), 0);
    assert.match(text.lines.join('\n'), /-----BEGIN CERTIFICATE-----/);
    const l = capture();
    assert.equal(await main(['node', 'medtrust', 'cert', 'list', '--device', deviceId, '--json'], env, l), 0);
    assert.deepEqual((JSON.parse(l.lines[0]!) as Array<{ serial: string }>).map((x) => x.serial), [serial]);
  });

  it('revokes from the CLI; the running server re-issues its CRL and its OCSP answer changes', async () => {
    assert.match(await ocsp(), /leaf\.pem: good/);
    assert.match(await crlVerify(), /leaf\.pem: OK/);
    const o = capture();
    assert.equal(await main(['node', 'medtrust', 'cert', 'revoke', serial, '--reason', 'keyCompromise'], env, o), 0, o.errors.join('\n'));
    assert.match(o.lines[0]!, /^revoked /);
    // The server hears it through the database event bus (polled every 200 ms).
    let out = '';
    for (let i = 0; i < 50; i++) {
      out = await ocsp();
      if (/revoked/.test(out)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(out, /leaf\.pem: revoked/);
    assert.match(await crlVerify(), /certificate revoked/);
  });

  it('refuses a second revocation, a bad reason, an unknown serial and a bad status with codes (exit 2)', async () => {
    const cases: Array<[string[], string]> = [
      [['cert', 'revoke', serial, '--reason', 'superseded'], 'CERT_ALREADY_REVOKED'],
      [['cert', 'revoke', serial, '--reason', 'removeFromCRL'], 'REVOCATION_REASON_INVALID'],
      [['cert', 'show', '0badc0ffee'], 'CERT_NOT_FOUND'],
      [['cert', 'list', '--status', 'bogus'], 'REQUEST_INVALID'],
    ];
    for (const [args, code] of cases) {
      const o = capture();
      assert.equal(await main(['node', 'medtrust', ...args], env, o), 2, args.join(' '));
      assert.match(o.errors.join('\n'), new RegExp(code));
    }
  });
});
