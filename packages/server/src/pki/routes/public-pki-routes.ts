import { CoreError } from '@medtrust/core';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { RouteModule } from '../../http/index.ts';
import type { CrlService } from '../crl/index.ts';
import { isCaName } from '../crl/index.ts';
import { PkiError } from '../errors.ts';
import type { OcspAnswer, OcspResponder } from '../ocsp/index.ts';
import type { CaName, CertificateAuthorities } from '../pki-contracts.ts';
import { MAX_OCSP_REQUEST_BYTES, ocspCacheControl, ocspGetRequestDer } from './ocsp-fast-path.ts';

export interface PublicPkiDeps {
  readonly crls: CrlService;
  readonly ocsp: OcspResponder;
  readonly cas: CertificateAuthorities;
}

const FILE_RE = /^([a-z]{1,32})\.(crl|crt|pem)$/;

function caFile(file: string, ext: 'crl' | 'crt' | 'pem'): CaName {
  const m = FILE_RE.exec(file);
  const name = m?.[1];
  if (!m || m[2] !== ext || !name || !isCaName(name)) throw new PkiError('CA_UNKNOWN', `no CA file ${file.slice(0, 40)}`, { details: { file: file.slice(0, 40) } });
  return name;
}

function sendOcsp(reply: FastifyReply, a: OcspAnswer, cacheable: boolean): FastifyReply {
  void reply.header('content-type', 'application/ocsp-response');
  void reply.header('cache-control', ocspCacheControl(a, cacheable));
  // RFC 6960 §A.1: error statuses are OCSP responses too, sent with HTTP 200.
  return reply.status(200).send(a.der);
}

/**
 * Public, unauthenticated PKI endpoints on :8080: CA certificates, CRLs and the OCSP responder.
 * Well-formed OCSP requests are normally answered by `ocspFastPath` before Fastify sees them; the
 * OCSP routes here document them in the OpenAPI and answer the rest (and any app without it).
 */
export function publicPkiRoutes(deps: PublicPkiDeps): RouteModule {
  return async (root: FastifyInstance) => {
    // An encapsulated scope, so the OCSP body parser does not leak into other domains' routes.
    await root.register(async (app) => {
      app.addContentTypeParser('application/ocsp-request', { parseAs: 'buffer', bodyLimit: MAX_OCSP_REQUEST_BYTES }, (_req, body, done) => done(null, body));

      app.get<{ Params: { file: string } }>('/pki/crl/:file', {
        schema: { tags: ['pki'], summary: 'Current DER CRL of a CA (root, manufacturing, operational, infrastructure)', params: { type: 'object', properties: { file: { type: 'string', description: '<ca>.crl' } }, required: ['file'] } },
      }, async (req, reply) => {
        const crl = await deps.crls.get(caFile(req.params.file, 'crl'));
        return reply.header('content-type', 'application/pkix-crl')
          .header('cache-control', `max-age=${Math.max(0, Math.floor((crl.thisUpdateMs + (crl.nextUpdateMs - crl.thisUpdateMs) / 2 - Date.now()) / 1000))}, public`)
          .send(crl.der);
      });

      app.get<{ Params: { file: string } }>('/pki/ca/:file', {
        schema: { tags: ['pki'], summary: 'A CA certificate, DER (<ca>.crt) or PEM (<ca>.pem)', params: { type: 'object', properties: { file: { type: 'string', description: '<ca>.crt or <ca>.pem' } }, required: ['file'] } },
      }, async (req, reply) => {
        const pem = req.params.file.endsWith('.pem');
        const ca = await deps.cas.get(caFile(req.params.file, pem ? 'pem' : 'crt'));
        return pem
          ? reply.header('content-type', 'application/x-pem-file').send(ca.certificatePem)
          : reply.header('content-type', 'application/pkix-cert').send(ca.certificateDer);
      });

      app.post('/ocsp', {
        schema: { tags: ['pki'], summary: 'OCSP responder (RFC 6960), DER OCSPRequest body of type application/ocsp-request' },
      }, async (req, reply) => {
        // RFC 6960 §A.1.1: a POST carries Content-Type application/ocsp-request.
        if (!Buffer.isBuffer(req.body) && req.body !== undefined) throw new CoreError('UNSUPPORTED_MEDIA_TYPE', 'send Content-Type: application/ocsp-request');
        const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        return sendOcsp(reply, await deps.ocsp.respond(body), false);
      });

      app.get('/ocsp/*', {
        schema: { tags: ['pki'], summary: 'OCSP responder (RFC 6960 §A.1): GET /ocsp/<url-encoded base64 or base64url DER request>' },
      }, async (req, reply) => {
        return sendOcsp(reply, await deps.ocsp.respond(ocspGetRequestDer(req.url) ?? Buffer.alloc(0)), true);
      });
    });
  };
}
