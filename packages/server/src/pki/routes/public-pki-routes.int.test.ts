import 'reflect-metadata';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import * as x509 from '@peculiar/x509';
import { TEST_DIALECTS } from '../../db/testing.ts';
import { parseCrlIndependently, parseOcspIndependently } from '../revocation/testing/independent-parsers.ts';
import { type RevocationTestServer, startRevocationTestServer } from '../revocation/testing/revocation-test-server.ts';
import type { IssuedTestCert } from '../revocation/testing/real-issuer.ts';

const run = promisify(execFile);

/** Runs openssl; returns stdout+stderr and the exit code (non-zero is an answer, not a failure). */
async function openssl(args: readonly string[]): Promise<{ out: string; code: number }> {
  try {
    const r = await run('openssl', args, { timeout: 20_000 });
    return { out: r.stdout + r.stderr, code: 0 };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; code?: number };
    return { out: (err.stdout ?? '') + (err.stderr ?? ''), code: typeof err.code === 'number' ? err.code : 1 };
  }
}

const pemOf = (der: Buffer, label: string): string => `-----BEGIN ${label}-----\n${der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '')}\n-----END ${label}-----\n`;

for (const dialect of TEST_DIALECTS) {
  describe(`public PKI routes with real openssl (${dialect})`, () => {
    let s: RevocationTestServer;
    let dir: string;
    let leaf: IssuedTestCert;
    let other: IssuedTestCert;
    const f = (n: string): string => join(dir, n);

    before(async () => {
      s = await startRevocationTestServer(dialect);
      dir = mkdtempSync(join(tmpdir(), 'medtrust-revocation-'));
      leaf = await s.pki.issue({ ca: 'operational' });
      other = await s.pki.issue({ ca: 'manufacturing' });
      writeFileSync(f('root.pem'), s.pki.caPems.root);
      writeFileSync(f('operational.pem'), s.pki.caPems.operational);
      writeFileSync(f('manufacturing.pem'), s.pki.caPems.manufacturing);
      writeFileSync(f('chain.pem'), s.pki.caPems.operational + s.pki.caPems.root);
      writeFileSync(f('mchain.pem'), s.pki.caPems.manufacturing + s.pki.caPems.root);
      writeFileSync(f('leaf.pem'), leaf.pem);
      writeFileSync(f('other.pem'), other.pem);
    });
    after(async () => {
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    });

    const fetchCrl = async (ca: string): Promise<Buffer> => {
      const r = await fetch(`${s.url}/pki/crl/${ca}.crl`);
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('content-type'), 'application/pkix-crl');
      return Buffer.from(await r.arrayBuffer());
    };
    const verifyWithCrl = async (): Promise<{ out: string; code: number }> => {
      writeFileSync(f('crl.pem'), pemOf(await fetchCrl('operational'), 'X509 CRL'));
      return openssl(['verify', '-crl_check', '-CRLfile', f('crl.pem'), '-CAfile', f('chain.pem'), f('leaf.pem')]);
    };
    const ocsp = (cert: string, issuer: string, extra: readonly string[] = []): Promise<{ out: string; code: number }> =>
      openssl(['ocsp', '-issuer', f(issuer), '-cert', f(cert), '-url', `${s.url}/ocsp`, '-CAfile', f(issuer === 'operational.pem' ? 'chain.pem' : 'mchain.pem'), '-resp_text', '-respout', f('resp.der'), ...extra]);

    it('serves CA certificates as DER and PEM, and 404 CA_UNKNOWN for other names', async () => {
      const der = Buffer.from(await (await fetch(`${s.url}/pki/ca/operational.crt`)).arrayBuffer());
      assert.deepEqual(der, (await s.stack.cas.get('operational')).certificateDer);
      const pem = await fetch(`${s.url}/pki/ca/root.pem`);
      assert.equal(await pem.text(), s.pki.caPems.root);
      for (const path of ['/pki/crl/x.crl', '/pki/crl/operational.crt', '/pki/ca/nope.crt', '/pki/crl/ocsp-signer.crl', '/pki/crl/..%2Froot.crl']) {
        const r = await fetch(`${s.url}${path}`);
        assert.equal(r.status, 404, path);
        assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'CA_UNKNOWN', path);
      }
    });

    it('emits v2 CRLs for every CA that pkijs parses and whose signature verifies; numbers increase', async () => {
      for (const ca of ['root', 'manufacturing', 'operational', 'infrastructure'] as const) {
        const loaded = await s.stack.cas.get(ca);
        const p = parseCrlIndependently(await fetchCrl(ca), loaded.certificateDer);
        assert.equal(p.signatureValid, true, ca);
        assert.equal(p.version, 1);
        assert.deepEqual(p.issuerDer, loaded.subjectDer);
        assert.deepEqual(p.authorityKeyId, loaded.keyId);
        assert.equal(p.nextUpdate!.getTime() - p.thisUpdate.getTime(), 24 * 3_600_000);
        assert.ok(p.crlNumber! >= 1);
      }
      const before = parseCrlIndependently(await fetchCrl('operational'), (await s.stack.cas.get('operational')).certificateDer).crlNumber!;
      await s.crls.regenerate('operational');
      const next = parseCrlIndependently(await fetchCrl('operational'), (await s.stack.cas.get('operational')).certificateDer).crlNumber!;
      assert.equal(next, before + 1);
      const row = await s.stack.t.db.selectFrom('ca').select('crl_number').where('name', '=', 'operational').executeTakeFirstOrThrow();
      assert.equal(Number(row.crl_number), next);
    });

    it('openssl verify -crl_check and openssl ocsp say good for a valid certificate', async () => {
      const v = await verifyWithCrl();
      assert.equal(v.code, 0, v.out);
      assert.match(v.out, /leaf\.pem: OK/);
      const o = await ocsp('leaf.pem', 'operational.pem');
      assert.equal(o.code, 0, o.out);
      assert.match(o.out, /Response verify OK/);
      assert.match(o.out, /leaf\.pem: good/);
      assert.doesNotMatch(o.out, /WARNING: no nonce/);
      const p = parseOcspIndependently(readFileSync(f('resp.der')));
      assert.equal(p.signatureValid, true);
      assert.equal(p.singles[0]?.status, 'good');
      // The delegated signer of the operational CA, identified by key (RFC 6960 §4.2.2.3).
      const signer = await s.stack.cas.ocspSigner('operational');
      assert.deepEqual(p.certs[0], signer.certificateDer);
      const spki = new x509.X509Certificate(new Uint8Array(signer.certificateDer)).publicKey.rawData;
      const bits = Buffer.from(spki).subarray(Buffer.from(spki).length - 65);
      assert.deepEqual(p.responderKeyHash, createHash('sha1').update(bits).digest());
    });

    it('echoes the nonce (RFC 8954) and signs nonce responses afresh', async () => {
      const o = await ocsp('leaf.pem', 'operational.pem', ['-nonce', '-reqout', f('req.der')]);
      assert.equal(o.code, 0, o.out);
      assert.match(o.out, /OCSP Nonce:/);
      const p = parseOcspIndependently(readFileSync(f('resp.der')));
      const reqNonce = readFileSync(f('req.der'));
      assert.ok(p.nonce && reqNonce.includes(p.nonce), 'response nonce extnValue is the request nonce');
      const again = await openssl(['ocsp', '-issuer', f('operational.pem'), '-cert', f('leaf.pem'), '-url', `${s.url}/ocsp`, '-CAfile', f('chain.pem'), '-respout', f('resp2.der')]);
      assert.equal(again.code, 0, again.out);
      const q = parseOcspIndependently(readFileSync(f('resp2.der')));
      assert.notDeepEqual(q.nonce, p.nonce, 'a new nonce, a new signed response');
      assert.equal(q.signatureValid, true);
    });

    it('answers unknown for a serial we never issued, unauthorized for a foreign issuer', async () => {
      const u = await openssl(['ocsp', '-issuer', f('operational.pem'), '-serial', '0x0badc0ffee', '-url', `${s.url}/ocsp`, '-CAfile', f('chain.pem'), '-resp_text']);
      assert.match(u.out, /0x0BADC0FFEE: unknown|0x0badc0ffee: unknown/i, u.out);
      // A certificate of the manufacturing CA asked about with the operational CA as issuer: unknown too.
      const cross = await openssl(['ocsp', '-issuer', f('operational.pem'), '-serial', `0x${other.serial}`, '-url', `${s.url}/ocsp`, '-CAfile', f('chain.pem')]);
      assert.match(cross.out, /: unknown/, cross.out);
      await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('foreign.key'), '-out', f('foreign.pem'), '-subj', '/CN=Foreign CA', '-days', '2']);
      const fo = await openssl(['ocsp', '-issuer', f('foreign.pem'), '-serial', '0x01', '-url', `${s.url}/ocsp`, '-CAfile', f('chain.pem')]);
      assert.match(fo.out, /Responder Error: unauthorized \(6\)/, fo.out);
    });

    it('serves GET /ocsp/<url-encoded base64> and caches responses without a nonce', async () => {
      const r = await openssl(['ocsp', '-issuer', f('operational.pem'), '-cert', f('leaf.pem'), '-no_nonce', '-reqout', f('get-req.der')]);
      assert.equal(r.code, 0, r.out);
      const b64 = readFileSync(f('get-req.der')).toString('base64');
      const a = await fetch(`${s.url}/ocsp/${encodeURIComponent(b64)}`);
      assert.equal(a.status, 200);
      assert.equal(a.headers.get('content-type'), 'application/ocsp-response');
      assert.match(a.headers.get('cache-control') ?? '', /max-age=\d+/);
      const first = Buffer.from(await a.arrayBuffer());
      const b = await fetch(`${s.url}/ocsp/${b64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')}`);
      const second = Buffer.from(await b.arrayBuffer());
      assert.deepEqual(second, first, 'second answer comes from the cache (identical bytes)');
      const p = parseOcspIndependently(first);
      assert.equal(p.signatureValid, true);
      assert.equal(p.singles[0]?.status, 'good');
      assert.equal(p.nonce, undefined);
    });

    it('after revocation: openssl verify says "certificate revoked", OCSP says revoked with reason, cache dropped', async () => {
      const cachedBefore = Buffer.from(await (await fetch(`${s.url}/ocsp`, { method: 'POST', headers: { 'content-type': 'application/ocsp-request' }, body: readFileSync(f('get-req.der')) })).arrayBuffer());
      assert.equal(parseOcspIndependently(cachedBefore).singles[0]?.status, 'good');
      await s.revocation.revoke(leaf.serial, 'keyCompromise', 'test');
      const v = await verifyWithCrl();
      assert.notEqual(v.code, 0);
      assert.match(v.out, /certificate revoked/);
      const crl = parseCrlIndependently(await fetchCrl('operational'), (await s.stack.cas.get('operational')).certificateDer);
      assert.deepEqual(crl.entries.map((e) => [e.serialHex, e.reason]), [[leaf.serial, 1]]);
      const o = await ocsp('leaf.pem', 'operational.pem');
      assert.match(o.out, /leaf\.pem: revoked/, o.out);
      assert.match(o.out, /Reason: keyCompromise/, o.out);
      assert.match(o.out, /Response verify OK/);
      const after = Buffer.from(await (await fetch(`${s.url}/ocsp`, { method: 'POST', headers: { 'content-type': 'application/ocsp-request' }, body: readFileSync(f('get-req.der')) })).arrayBuffer());
      const p = parseOcspIndependently(after);
      assert.equal(p.signatureValid, true);
      assert.equal(p.singles[0]?.status, 'revoked');
      assert.equal(p.singles[0]?.reason, 1);
    });

    it('hears a revocation made by another process (the CLI) through the database event bus', async () => {
      const { DbEventBus } = await import('../../events/index.ts');
      const { RevocationService } = await import('../revocation/index.ts');
      const cliBus = new DbEventBus({ db: s.stack.t.db });
      const cli = new RevocationService({ db: s.stack.t.db, audit: s.stack.audit, events: cliBus });
      writeFileSync(f('other-req.der'), Buffer.alloc(0));
      const r = await openssl(['ocsp', '-issuer', f('manufacturing.pem'), '-cert', f('other.pem'), '-no_nonce', '-reqout', f('other-req.der')]);
      assert.equal(r.code, 0, r.out);
      const ask = async (): Promise<string | undefined> => parseOcspIndependently(Buffer.from(await (await fetch(`${s.url}/ocsp`, { method: 'POST', headers: { 'content-type': 'application/ocsp-request' }, body: readFileSync(f('other-req.der')) })).arrayBuffer())).singles[0]?.status;
      assert.equal(await ask(), 'good');
      const crlBefore = parseCrlIndependently(await fetchCrl('manufacturing'), (await s.stack.cas.get('manufacturing')).certificateDer);
      await cli.revoke(other.serial, 'cessationOfOperation', 'cli');
      const deadline = Date.now() + 5000;
      let status = await ask();
      while (status !== 'revoked' && Date.now() < deadline) {
        await new Promise((res) => setTimeout(res, 50));
        status = await ask();
      }
      assert.equal(status, 'revoked');
      const crlAfter = parseCrlIndependently(await fetchCrl('manufacturing'), (await s.stack.cas.get('manufacturing')).certificateDer);
      assert.ok(crlAfter.crlNumber! > crlBefore.crlNumber!);
      assert.deepEqual(crlAfter.entries.map((e) => [e.serialHex, e.reason]), [[other.serial, 5]]);
    });

    it('answers garbage, truncated and mutated requests with well-formed OCSP responses and keeps serving', async () => {
      const valid = readFileSync(f('get-req.der'));
      const inputs: Buffer[] = [Buffer.alloc(0), Buffer.from([0x30]), Buffer.from([0x30, 0x80, 0, 0]), Buffer.from([0x30, 0x84, 0xff, 0xff, 0xff, 0xff])];
      for (let i = 1; i < valid.length; i += 3) inputs.push(valid.subarray(0, i));
      for (let i = 0; i < 60; i++) inputs.push(randomBytes(1 + Math.floor(Math.random() * 200)));
      for (let i = 0; i < 60; i++) {
        const m = Buffer.from(valid);
        const at = Math.floor(Math.random() * m.length);
        m[at] = m[at]! ^ (1 << Math.floor(Math.random() * 8));
        inputs.push(m);
      }
      let malformed = 0;
      for (const input of inputs) {
        const body = new Uint8Array(input);
        const r = await fetch(`${s.url}/ocsp`, { method: 'POST', headers: { 'content-type': 'application/ocsp-request' }, body });
        assert.equal(r.status, 200);
        const p = parseOcspIndependently(Buffer.from(await r.arrayBuffer()));
        assert.ok([0, 1, 6].includes(p.responseStatus), `status ${p.responseStatus}`);
        if (p.responseStatus === 0) assert.equal(p.signatureValid, true);
        if (p.responseStatus === 1) malformed++;
      }
      assert.ok(malformed >= Math.floor(valid.length / 3) + 55, 'every truncation and nearly all random inputs are malformedRequest');
      // An undecodable URL is refused by the router before any route (HTTP 400).
      assert.equal((await fetch(`${s.url}/ocsp/%%%`)).status, 400);
      for (const path of ['/ocsp/!!!!', '/ocsp/', '/ocsp/MAA%3D', `/ocsp/${'A'.repeat(12000)}`]) {
        const r = await fetch(`${s.url}${path}`);
        assert.equal(r.status, 200, path);
        assert.deepEqual(Buffer.from(await r.arrayBuffer()), Buffer.from('30030a0101', 'hex'));
      }
      const wrongType = await fetch(`${s.url}/ocsp`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: valid });
      assert.equal(wrongType.status, 415);
      assert.equal(((await wrongType.json()) as { error: { code: string } }).error.code, 'UNSUPPORTED_MEDIA_TYPE');
      const huge = await fetch(`${s.url}/ocsp`, { method: 'POST', headers: { 'content-type': 'application/ocsp-request' }, body: randomBytes(64 * 1024) });
      assert.equal(huge.status, 413);
      assert.match(await s.metrics.metrics(), /medtrust_ocsp_responses_total\{outcome="malformedRequest"\} \d+/);
      assert.equal((await fetch(`${s.url}/healthz`)).status, 200);
    });
  });
}
