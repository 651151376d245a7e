import 'reflect-metadata';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TEST_DIALECTS } from '../../db/testing.ts';
import { parseOcspIndependently } from '../revocation/testing/independent-parsers.ts';
import { type RevocationTestServer, startRevocationTestServer } from '../revocation/testing/revocation-test-server.ts';
import type { IssuedTestCert } from '../revocation/testing/real-issuer.ts';

interface Answer { readonly status: number; readonly type: string | undefined; readonly cacheControl: string | undefined; readonly body: Buffer }

/** One raw HTTP request; `chunked` sends the body without Content-Length. */
function send(base: string, method: string, path: string, opts: { type?: string; body?: Buffer; chunked?: boolean } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = {};
    if (opts.type) headers['content-type'] = opts.type;
    if (opts.body && !opts.chunked) headers['content-length'] = opts.body.length;
    const req = request(`${base}${path}`, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], cacheControl: res.headers['cache-control'], body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    if (opts.body && opts.chunked) {
      req.write(opts.body.subarray(0, 10));
      req.end(opts.body.subarray(10));
    } else req.end(opts.body);
  });
}

/** What must agree between the two servers: HTTP status, types, and the OCSP or error meaning. */
function meaning(a: Answer): string {
  if (a.type === 'application/ocsp-response') {
    const p = parseOcspIndependently(a.body);
    return JSON.stringify({ http: a.status, cache: a.cacheControl?.split('=')[0], ocsp: p.responseStatus, statuses: p.singles.map((s) => s.status), signed: p.responseStatus === 0 ? p.signatureValid : undefined, nonce: p.nonce?.toString('hex') });
  }
  const code = a.type?.startsWith('application/json') ? (JSON.parse(a.body.toString()) as { error?: { code?: string } }).error?.code : undefined;
  return JSON.stringify({ http: a.status, type: a.type?.split(';')[0], code });
}

for (const dialect of TEST_DIALECTS) {
  describe(`OCSP fast path (${dialect})`, () => {
    let fast: RevocationTestServer;
    let routed: RevocationTestServer;
    let dir: string;
    let leaf: IssuedTestCert;
    let plain: Buffer;
    let withNonce: Buffer;

    before(async () => {
      fast = await startRevocationTestServer(dialect);
      // Same database contents are not needed: each server answers about its own CA hierarchy.
      routed = await startRevocationTestServer(dialect, { fastPath: false });
      dir = mkdtempSync(join(tmpdir(), 'medtrust-ocsp-fast-'));
      leaf = await fast.pki.issue({ ca: 'operational' });
      writeFileSync(join(dir, 'ca.pem'), fast.pki.caPems.operational);
      writeFileSync(join(dir, 'leaf.pem'), leaf.pem);
      const req = (extra: string[], out: string): Buffer => {
        execFileSync('openssl', ['ocsp', '-issuer', join(dir, 'ca.pem'), '-cert', join(dir, 'leaf.pem'), ...extra, '-reqout', join(dir, out)], { stdio: 'ignore' });
        return readFileSync(join(dir, out));
      };
      plain = req(['-no_nonce'], 'plain.der');
      withNonce = req(['-nonce'], 'nonce.der');
    });
    after(async () => {
      await fast?.close();
      await routed?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('answers a nonce-less POST from the cache without Fastify, identical bytes each time', async () => {
      const a = await send(fast.url, 'POST', '/ocsp', { type: 'application/ocsp-request', body: plain });
      assert.equal(a.status, 200);
      assert.equal(a.type, 'application/ocsp-response');
      assert.equal(a.cacheControl, 'no-store');
      assert.equal(parseOcspIndependently(a.body).singles[0]?.status, 'good');
      const b = await send(fast.url, 'POST', '/ocsp', { type: 'application/ocsp-request', body: plain });
      assert.deepEqual(b.body, a.body);
      assert.deepEqual(fast.ocsp.cachedAnswer(plain)?.der, a.body);
      // Fastify's per-route histogram never saw these requests: the fast path took them.
      assert.doesNotMatch(await fast.metrics.metrics(), /medtrust_http_request_duration_seconds_count\{[^}]*route="\/ocsp"/);
      assert.match(await fast.metrics.metrics(), /medtrust_ocsp_responses_total\{outcome="good"\} [2-9]/);
    });

    it('signs every nonce request afresh and never caches it', async () => {
      const a = await send(fast.url, 'POST', '/ocsp', { type: 'application/ocsp-request', body: withNonce });
      const b = await send(fast.url, 'POST', '/ocsp', { type: 'application/ocsp-request', body: withNonce });
      assert.ok(parseOcspIndependently(a.body).nonce);
      assert.equal(parseOcspIndependently(b.body).signatureValid, true);
      assert.equal(fast.ocsp.cachedAnswer(withNonce), undefined);
    });

    it('drops the cached answer of exactly these bytes on revocation', async () => {
      const other = await fast.pki.issue({ ca: 'operational' });
      writeFileSync(join(dir, 'other.pem'), other.pem);
      execFileSync('openssl', ['ocsp', '-issuer', join(dir, 'ca.pem'), '-cert', join(dir, 'other.pem'), '-no_nonce', '-reqout', join(dir, 'other.der')], { stdio: 'ignore' });
      const body = readFileSync(join(dir, 'other.der'));
      const get = `/ocsp/${encodeURIComponent(body.toString('base64'))}`;
      assert.equal(parseOcspIndependently((await send(fast.url, 'GET', get)).body).singles[0]?.status, 'good');
      assert.ok(fast.ocsp.cachedAnswer(body));
      await fast.revocation.revoke(other.serial, 'superseded', 'test');
      assert.equal(fast.ocsp.cachedAnswer(body), undefined);
      const after = await send(fast.url, 'GET', get);
      assert.match(after.cacheControl ?? '', /^max-age=\d+, public/);
      assert.equal(parseOcspIndependently(after.body).singles[0]?.status, 'revoked');
    });

    it('gives the same answers as the Fastify routes for good and bad requests', async () => {
      const cases: Array<[string, string, { type?: string; body?: Buffer; chunked?: boolean }]> = [
        ['POST', '/ocsp', { type: 'application/ocsp-request', body: randomBytes(40) }],
        ['POST', '/ocsp', { type: 'application/ocsp-request', body: plain.subarray(0, plain.length - 3) }],
        ['POST', '/ocsp', { type: 'application/ocsp-request' }],
        ['POST', '/ocsp', { type: 'application/ocsp-request', body: Buffer.concat([plain, Buffer.from([0])]) }],
        ['POST', '/ocsp', { type: 'text/plain', body: plain }],
        ['POST', '/ocsp', { body: plain }],
        ['POST', '/ocsp', { type: 'application/ocsp-request', body: randomBytes(64 * 1024) }],
        ['POST', '/ocsp', { type: 'application/ocsp-request', body: randomBytes(64 * 1024), chunked: true }],
        ['GET', '/ocsp/%%%', {}],
        ['GET', '/ocsp/', {}],
        ['GET', '/ocsp/!!!!', {}],
        ['GET', `/ocsp/${'A'.repeat(30000)}`, {}],
        ['PUT', '/ocsp', { type: 'application/ocsp-request', body: plain }],
        ['GET', '/ocspx', {}],
      ];
      for (const [method, path, opts] of cases) {
        const label = `${method} ${path.slice(0, 30)} ${opts.type ?? '-'} ${opts.body?.length ?? 0}${opts.chunked ? ' chunked' : ''}`;
        const [f, r] = await Promise.all([send(fast.url, method, path, opts), send(routed.url, method, path, opts)]).catch((e: unknown) => {
          throw new Error(`${label}: ${String(e)}`);
        });
        assert.equal(meaning(f), meaning(r), label);
      }
      // A request about a certificate of another CA hierarchy: both answer unauthorized.
      const [f, r] = await Promise.all([fast, routed].map((s) => send(s.url, 'POST', '/ocsp', { type: 'application/ocsp-request', body: plain })));
      assert.equal(parseOcspIndependently(f!.body).singles[0]?.status, 'good');
      assert.equal(parseOcspIndependently(r!.body).responseStatus, 6);
      // A chunked, well-formed request goes to Fastify and gets the same (cached) answer.
      const chunked = await send(fast.url, 'POST', '/ocsp', { type: 'application/ocsp-request', body: plain, chunked: true });
      assert.deepEqual(chunked.body, f!.body);
      assert.equal((await send(fast.url, 'GET', '/healthz')).status, 200);
    });
  });
}
