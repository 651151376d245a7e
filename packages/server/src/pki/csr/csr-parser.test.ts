import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isMedTrustError } from '@medtrust/core';
import { csrDerFromFile, MAX_CSR_BYTES, parseCsr } from './csr-parser.ts';

/** Makes a DER CSR with the real OpenSSL CLI, for the given `-newkey` algorithm options. */
function opensslCsr(dir: string, name: string, keyArgs: readonly string[], digest = '-sha256'): Buffer {
  const out = join(dir, `${name}.der`);
  execFileSync('openssl', ['req', '-new', ...keyArgs, '-nodes', '-keyout', join(dir, `${name}.key`), '-subj', `/CN=${name}`, ...(digest ? [digest] : []), '-outform', 'DER', '-out', out], { stdio: 'pipe' });
  return readFileSync(out);
}

const codeOf = (f: () => unknown): string => {
  try {
    f();
    return 'OK';
  } catch (e) {
    if (!isMedTrustError(e)) throw e;
    return e.code;
  }
};

describe('parseCsr', () => {
  let dir: string;
  const csrs = new Map<string, Buffer>();
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'medtrust-csr-'));
    csrs.set('p256', opensslCsr(dir, 'p256', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']));
    csrs.set('p384', opensslCsr(dir, 'p384', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'], '-sha384'));
    csrs.set('ed25519', opensslCsr(dir, 'ed25519', ['-newkey', 'ed25519'], ''));
    csrs.set('rsa2048', opensslCsr(dir, 'rsa2048', ['-newkey', 'rsa:2048']));
    csrs.set('rsa1024', opensslCsr(dir, 'rsa1024', ['-newkey', 'rsa:1024']));
    csrs.set('p192', opensslCsr(dir, 'p192', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime192v1']));
    csrs.set('k256', opensslCsr(dir, 'k256', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:secp256k1']));
    csrs.set('p256-sha1', opensslCsr(dir, 'p256sha1', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], '-sha1'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('when the CSR is well-formed with an allowed key', () => {
    for (const [name, type] of [['p256', 'ec-p256'], ['p384', 'ec-p384'], ['ed25519', 'ed25519'], ['rsa2048', 'rsa']] as const) {
      it(`accepts ${name} and returns a key equal to OpenSSL's`, () => {
        const csr = parseCsr(csrs.get(name) as Buffer);
        assert.equal(csr.keyType, type);
        const fromOpenssl = execFileSync('openssl', ['pkey', '-in', join(dir, `${name}.key`), '-pubout', '-outform', 'DER']);
        assert.deepEqual(csr.publicKey.export({ format: 'der', type: 'spki' }), fromOpenssl);
        assert.deepEqual(csr.spkiDer, fromOpenssl);
      });
    }
    it('reads PEM files too', () => {
      const pem = execFileSync('openssl', ['req', '-inform', 'DER', '-in', join(dir, 'p256.der'), '-outform', 'PEM']);
      assert.deepEqual(csrDerFromFile(pem), csrs.get('p256'));
    });
  });

  describe('when the key is weak or of a refused type', () => {
    for (const name of ['rsa1024', 'p192', 'k256']) {
      it(`refuses ${name} with KEY_POLICY_VIOLATION`, () => assert.equal(codeOf(() => parseCsr(csrs.get(name) as Buffer)), 'KEY_POLICY_VIOLATION'));
    }
  });

  describe('when the CSR is bad', () => {
    it('refuses a SHA-1 signature and a forged signature with CSR_INVALID', () => {
      assert.equal(codeOf(() => parseCsr(csrs.get('p256-sha1') as Buffer)), 'CSR_INVALID');
      const forged = Buffer.from(csrs.get('p256') as Buffer);
      forged[20] = (forged[20] as number) ^ 0x01; // inside the subject: signature no longer matches
      assert.equal(codeOf(() => parseCsr(forged)), 'CSR_INVALID');
    });
    it('refuses a CSR larger than 16 KiB with CSR_TOO_LARGE', () => {
      assert.equal(codeOf(() => parseCsr(Buffer.alloc(MAX_CSR_BYTES + 1, 0x30))), 'CSR_TOO_LARGE');
    });
    it('gives only CSR_INVALID for every truncation and every single-byte flip of valid CSRs', () => {
      for (const name of ['p256', 'ed25519', 'rsa2048']) {
        const good = csrs.get(name) as Buffer;
        for (let n = 0; n < good.length; n++) assert.equal(codeOf(() => parseCsr(good.subarray(0, n))), 'CSR_INVALID', `${name} truncated to ${n}`);
        for (let i = 0; i < good.length; i++) {
          const bad = Buffer.from(good);
          bad[i] = (bad[i] as number) ^ (1 << (i % 8));
          assert.ok(['CSR_INVALID', 'KEY_POLICY_VIOLATION'].includes(codeOf(() => parseCsr(bad))), `${name} flipped at ${i}`);
        }
      }
    });
    it('gives only CSR_INVALID or CSR_TOO_LARGE for random bytes', () => {
      for (let i = 0; i < 3000; i++) {
        const len = i % 50 === 0 ? MAX_CSR_BYTES + 1 + (i % 7) : 1 + (i % 400);
        const buf = randomBytes(len);
        if (i % 3 === 0) buf[0] = 0x30; // get past the first tag more often
        const code = codeOf(() => parseCsr(buf));
        assert.ok(code === 'CSR_INVALID' || code === 'CSR_TOO_LARGE', code);
      }
    });
  });
});
