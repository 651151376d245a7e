import type { FastifyInstance } from 'fastify';
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
      return reply.header('content-type', 'application/json').header('cache-control', cache).send(bytes);
    });
    app.get<{ Params: { '*': string } }>('/tuf/targets/*', {
      schema: { tags: ['tuf'], summary: 'TUF target files by consistent-snapshot name `<dir>/<sha256>.<name>`' },
    }, async (request, reply) => {
      const target = await opts.repository.openTarget(request.params['*']);
      if (!target) throw new UpdateError('TUF_METADATA_NOT_FOUND', 'no such target file');
      return reply.header('content-type', 'application/octet-stream').header('content-length', target.length).header('cache-control', 'public, max-age=31536000, immutable').send(target.stream);
    });
  };
}
