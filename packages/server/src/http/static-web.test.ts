import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { buildHttpApp } from './build-http-app.ts';
import { staticWebRoutes } from './static-web.ts';

const build = (distDir: string) => buildHttpApp({
  logger: pino({ level: 'silent' }), metrics: new Registry(), version: 'test', ready: async () => true,
  routes: [(app) => void app.get('/api/v1/ping', async () => ({ ok: true })), staticWebRoutes({ distDir })],
});

describe('staticWebRoutes', () => {
  let dir: string;
  let app: FastifyInstance;
  let missing: FastifyInstance;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mt-web-dist-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>spa</title><div id="root"></div>');
    writeFileSync(join(dir, 'assets', 'index-abc123.js'), 'console.log(1)');
    app = await build(dir);
    missing = await build(join(dir, 'nope'));
  });
  after(async () => {
    await app.close();
    await missing.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers index.html on / and on client routes, with a CSP and no caching', async () => {
    for (const url of ['/', '/fleet', '/devices/d-1', '/alerts', '/audit']) {
      const r = await app.inject({ url });
      assert.equal(r.statusCode, 200, url);
      assert.match(r.body, /<title>spa<\/title>/);
      assert.equal(r.headers['cache-control'], 'no-cache');
      assert.match(String(r.headers['content-security-policy']), /default-src 'self'/);
      assert.equal(r.headers['x-frame-options'], 'DENY');
    }
  });

  it('serves hashed assets with a long cache', async () => {
    const r = await app.inject({ url: '/assets/index-abc123.js' });
    assert.equal(r.statusCode, 200);
    assert.equal(r.body, 'console.log(1)');
    assert.match(String(r.headers['cache-control']), /immutable/);
  });

  it('never swallows API and service prefixes: unknown paths keep the coded JSON 404', async () => {
    assert.equal((await app.inject({ url: '/api/v1/ping' })).json<{ ok: boolean }>().ok, true);
    for (const url of ['/api/v1/nope', '/fhir/R4/Patient', '/pki/x', '/tuf/1.root.json', '/ocsp/zz', '/docs/nope', '/metricsx', '/assets/missing.js', '/devices/a/b', '/../etc/passwd', '/.env']) {
      const r = await app.inject({ url });
      assert.equal(r.statusCode, 404, url);
      assert.equal(r.json<{ error: { code: string } }>().error.code, 'NOT_FOUND', url);
    }
    assert.equal((await app.inject({ url: '/healthz' })).statusCode, 200);
  });

  it('without a build, / says to run npm run build (503) and the API still serves', async () => {
    const r = await missing.inject({ url: '/' });
    assert.equal(r.statusCode, 503);
    assert.match(r.body, /npm run build/);
    assert.equal((await missing.inject({ url: '/fleet' })).statusCode, 503);
    assert.equal((await missing.inject({ url: '/api/v1/ping' })).statusCode, 200);
  });
});
