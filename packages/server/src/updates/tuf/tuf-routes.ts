import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { HttpFastPath } from '../../http/index.ts';
import { UpdateError } from '../errors.ts';
import type { TufMetadataReader } from './tuf-metadata-reader.ts';
import type { TufRepository } from './tuf-repository.ts';

/**
 * Public, unauthenticated TUF endpoints (TUF 1.0 §5: trust comes from signatures, not transport):
 * `/tuf/metadata/<file>` and `/tuf/targets/<dir>/<sha256>.<name>`.
 */
export function tufRoutes(opts: { reader: TufMetadataReader; repository: TufRepository }) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get<{ Params: { file: string } }>('/tuf/metadata/:file', {
      schema: { tags: ['tuf'], summary: 'TUF metadata: root.json, N.root.json, timestamp.json, N.snapshot.json, N.targets.json, N.<model>.json' },
    }, async (request, reply) => {
      const bytes = await opts.reader.read(request.params.file);
      if (!bytes) throw new UpdateError('TUF_METADATA_NOT_FOUND', 'no such metadata file');
      // timestamp.json changes; versioned files never do (consistent snapshots).
      const cache = request.params.file === 'timestamp.json' || request.params.file === 'root.json' ? 'no-cache' : 'public, max-age=31536000, immutable';
      // An unchanged timestamp answers 304 without a body: most update checks find nothing new.
      const etag = opts.reader.etag(bytes);
      reply.header('etag', etag).header('cache-control', cache);
      if (request.headers['if-none-match'] === etag) return reply.status(304).send();
      return reply.header('content-type', 'application/json').send(bytes);
    });
    app.get<{ Params: { '*': string } }>('/tuf/targets/*', {
      schema: { tags: ['tuf'], summary: 'TUF target files by consistent-snapshot name `<dir>/<sha256>.<name>`', description: 'A firmware target of a withdrawn release answers 410 TUF_TARGET_WITHDRAWN.' },
    }, async (request, reply) => {
      const target = await opts.repository.openTarget(request.params['*']);
      if (!target) throw new UpdateError('TUF_METADATA_NOT_FOUND', 'no such target file');
      return reply.header('content-type', 'application/octet-stream').header('content-length', target.length).header('cache-control', 'public, max-age=31536000, immutable').send(target.stream);
    });
  };
}

/**
 * The update check's hot path, before Fastify: GET /tuf/metadata/timestamp.json from memory with
 * ETag/304. Only while the reader's copy is fresh; otherwise the route above reads the database
 * (and refreshes the copy), so other nodes' changes still show within the reader's cache time.
 */
export function tufFastPath(reader: TufMetadataReader): HttpFastPath {
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    if (req.method !== 'GET' || req.url !== '/tuf/metadata/timestamp.json') return false;
    const bytes = reader.freshTimestamp();
    if (!bytes) return false;
    const etag = reader.etag(bytes);
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, { 'etag': etag, 'cache-control': 'no-cache' });
      res.end();
      return true;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': bytes.length, 'etag': etag, 'cache-control': 'no-cache' });
    res.end(bytes);
    return true;
  };
}
