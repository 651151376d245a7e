import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { RouteModule } from './build-http-app.ts';

/** Where `npm run build` puts the dashboard (packages/web/dist), relative to this file. */
export const DEFAULT_WEB_DIST_DIR = fileURLToPath(new URL('../../../web/dist/', import.meta.url));

/**
 * The dashboard's client-side routes: each answers index.html so a reload or a bookmarked link
 * works. Listed explicitly (no catch-all) so unknown /api, /fhir, /pki, /tuf, /ocsp, /docs,
 * /healthz, /readyz and /metrics paths keep their JSON 404 from the API.
 */
export const SPA_ROUTES = ['/', '/login', '/fleet', '/devices/:id', '/certificates', '/alerts', '/vitals', '/releases', '/vulnerabilities', '/audit', '/patients', '/policies'] as const;

// The SPA loads only its own bundle and talks only to this origin (the session cookie is SameSite=Strict).
const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

const MISSING_BUILD_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>MedTrust dashboard not built</title></head>
<body><main><h1>MedTrust dashboard not built</h1><p>The web dashboard has not been built. Run <code>npm run build</code> in the repository root, then restart the platform.</p><p>The REST API is at <a href="/docs">/docs</a>.</p></main></body></html>`;

export interface StaticWebOptions {
  /** The built dashboard; defaults to packages/web/dist. */
  readonly distDir?: string;
}

/** Serves the built web dashboard on :8080 at `/` and its client routes; a hint page when not built. */
export function staticWebRoutes(opts: StaticWebOptions = {}): RouteModule {
  const distDir = opts.distDir ?? DEFAULT_WEB_DIST_DIR;
  return async (app: FastifyInstance): Promise<void> => {
    const indexPath = `${distDir.replace(/\/$/, '')}/index.html`;
    const built = existsSync(indexPath);
    // Read once: the dist is immutable while the process runs (a rebuild needs a restart).
    const page = built ? readFileSync(indexPath, 'utf8') : MISSING_BUILD_PAGE;
    const sendPage = (reply: FastifyReply) => reply.status(built ? 200 : 503).headers({ ...SECURITY_HEADERS, 'cache-control': 'no-cache' }).type('text/html; charset=utf-8').send(page);
    // Encapsulated: @fastify/swagger-ui registers @fastify/static too; decorators must not clash.
    await app.register(async (child) => {
      if (built) {
        await child.register(fastifyStatic, {
          root: distDir, prefix: '/', wildcard: false, index: false, decorateReply: false, serveDotFiles: false, cacheControl: false,
          setHeaders: (res, filePath) => {
            for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
            // Vite content-hashes everything under assets/: safe to cache for a year.
            res.setHeader('cache-control', filePath.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
          },
        });
      }
      for (const url of SPA_ROUTES) {
        child.get(url, { schema: { hide: true } }, async (_req, reply) => sendPage(reply));
      }
    });
  };
}
