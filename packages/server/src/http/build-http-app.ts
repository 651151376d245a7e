import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type ServerOptions as HttpsServerOptions } from 'node:https';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, type FastifyServerOptions, LogController } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { Histogram } from 'prom-client';
import { handleError } from './error-handler.ts';

/** A domain's routes: registered on the app with whatever services the domain needs. */
export type RouteModule = (app: FastifyInstance) => void | Promise<void>;

/**
 * A raw node:http handler asked before Fastify; returns true when it took the request. Only for
 * hot paths whose cost Fastify's per-request work would dominate (the OCSP responder, the update
 * checks). A fast path that took a request and then cannot answer it (a failed lookup) hands it to
 * Fastify with `fallback`, whose route answers with the coded error; only bodiless requests can.
 */
export type HttpFastPath = (req: IncomingMessage, res: ServerResponse, fallback: () => void) => boolean;

export interface HttpAppOptions {
  readonly logger: Logger;
  readonly metrics: Registry;
  /** Resolves when the platform is ready to serve (database reachable, CA loaded). */
  readonly ready: () => Promise<boolean>;
  readonly routes: readonly RouteModule[];
  readonly version: string;
  /** TLS options: serve HTTPS (the device-facing :8443 listener) instead of HTTP. */
  readonly https?: HttpsServerOptions;
  readonly bodyLimitBytes?: number;
  /** Handlers run before Fastify routing, in order. */
  readonly fastPaths?: readonly HttpFastPath[];
}

/** The REST/OpenAPI application on :8080; domains add their routes as modules. */
export async function buildHttpApp(opts: HttpAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: opts.logger,
    // Per-request log lines would cost the device hot paths; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: opts.bodyLimitBytes ?? 1024 * 1024,
    // With a serverFactory Fastify does not create the server, so the factory applies the TLS options.
    ...(opts.https && !opts.fastPaths?.length ? { https: opts.https } : {}),
    ...(opts.fastPaths?.length ? { serverFactory: fastPathServer(opts.fastPaths, opts.https) } : {}),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false, allowUnionTypes: true } },
  } as FastifyServerOptions) as unknown as FastifyInstance;
  app.decorateRequest('principal', undefined);
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({ error: { code: 'NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}`, requestId: String(request.id) } });
  });

  // The HTTPS listener is a second app on the same registry: share the histogram, do not re-register it.
  const duration = (opts.metrics.getSingleMetric('medtrust_http_request_duration_seconds') as Histogram | undefined) ?? new Histogram({ name: 'medtrust_http_request_duration_seconds', help: 'HTTP request duration', labelNames: ['method', 'route', 'status'], registers: [opts.metrics], buckets: [0.001, 0.005, 0.02, 0.1, 0.5, 2] });
  app.addHook('onResponse', async (request, reply) => {
    duration.observe({ method: request.method, route: request.routeOptions.url ?? 'unknown', status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'MedTrust API', version: opts.version, description: 'Device trust platform for connected medical devices. Errors have the shape `{ error: { code, message, details, requestId } }`; codes are listed in docs/errors.md.' },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'API token from `medtrust token create` (data/admin-token on first start).' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.get('/healthz', { schema: { tags: ['ops'], summary: 'Liveness: the process is serving', response: { 200: { type: 'object', properties: { status: { type: 'string' } } } } } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { tags: ['ops'], summary: 'Readiness: database reachable and CA loaded' } }, async (_req, reply) => {
    const ok = await opts.ready().catch(() => false);
    return reply.status(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not ready' });
  });
  app.get('/metrics', { schema: { tags: ['ops'], summary: 'Prometheus metrics' } }, async (_req, reply) => {
    return reply.header('content-type', opts.metrics.contentType).send(await opts.metrics.metrics());
  });

  for (const r of opts.routes) await r(app);
  return app;
}

/** The node:http(s) server Fastify would create, with the fast paths in front of its handler. */
function fastPathServer(fastPaths: readonly HttpFastPath[], https: HttpsServerOptions | undefined) {
  return (handler: (req: IncomingMessage, res: ServerResponse) => void, o: FastifyServerOptions) => {
    const listener = (req: IncomingMessage, res: ServerResponse): void => {
      const fallback = (): void => handler(req, res);
      for (const f of fastPaths) if (f(req, res, fallback)) return;
      handler(req, res);
    };
    const server = https ? createHttpsServer(https, listener) : createServer({}, listener);
    // As Fastify sets them on a server it creates (fastify/lib/server.js).
    if (o.keepAliveTimeout) server.keepAliveTimeout = o.keepAliveTimeout;
    if (o.requestTimeout) server.requestTimeout = o.requestTimeout;
    if (o.connectionTimeout) server.setTimeout(o.connectionTimeout);
    if (o.maxRequestsPerSocket) server.maxRequestsPerSocket = o.maxRequestsPerSocket;
    return server;
  };
}
