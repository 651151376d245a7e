import type { TLSSocket } from 'node:tls';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PkiError } from '../errors.ts';
import { CSR_ATTRS_DER } from './csr-attrs.ts';
import { decodeCsrBody, MAX_CSR_BODY_BYTES } from './csr-body.ts';
import type { EstCredentials, EstService } from './est-service.ts';
import { base64Lines } from './pkcs7-certs-only.ts';

/** RFC 7030 §3.2.2: the fixed path prefix of EST. */
export const EST_PREFIX = '/.well-known/est';
const REALM = 'Basic realm="medtrust-est", charset="UTF-8"';

/** RFC 7617 Basic credentials, or the TLS client certificate, or nothing. */
export function credentialsOf(request: FastifyRequest): EstCredentials {
  const h = request.headers.authorization;
  if (h !== undefined && /^basic /i.test(h)) {
    const decoded = Buffer.from(h.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new PkiError('ENROLL_UNAUTHORIZED', 'malformed HTTP Basic credentials');
    return { kind: 'basic', username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  const socket = request.raw.socket as Partial<TLSSocket>;
  const peer = typeof socket.getPeerX509Certificate === 'function' ? socket.getPeerX509Certificate() : undefined;
  return peer ? { kind: 'client-certificate', der: Buffer.from(peer.raw) } : { kind: 'none' };
}

function csrOf(request: FastifyRequest): Buffer {
  const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  // RFC 7030 §4.2.1: the request is a base64 PKCS#10 with Content-Type application/pkcs10.
  if (type !== 'application/pkcs10') throw new PkiError('CONTENT_TYPE_INVALID', `Content-Type must be application/pkcs10, got "${type || 'none'}"`);
  return decodeCsrBody(request.body as Buffer);
}

function sendBase64(reply: FastifyReply, contentType: string, der: Buffer): FastifyReply {
  // RFC 7030 §4.1.3 / §4.2.3: base64 body with Content-Transfer-Encoding as in RFC 2045.
  return reply.header('content-type', contentType).header('content-transfer-encoding', 'base64').send(base64Lines(der));
}

const CERTS_ONLY = 'application/pkcs7-mime; smime-type=certs-only';

/** The EST routes; registered on the HTTPS listener so that TLS client certificates reach them. */
export function estRoutes(est: EstService) {
  return async (app: FastifyInstance): Promise<void> => {
    await app.register(async (scope) => {
      // Every body reaches the handler as bytes, so a wrong type gets EST's coded 415, not Fastify's.
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_CSR_BODY_BYTES }, (_req, body, done) => done(null, body));
      scope.addHook('onSend', async (_request, reply) => {
        // RFC 7030 §4.2.3 / RFC 9110 §11.6.1: a 401 names the scheme the client should use.
        if (reply.statusCode === 401) void reply.header('www-authenticate', REALM);
      });

      scope.get('/cacerts', { schema: { tags: ['est'], summary: 'CA certificates (RFC 7030 §4.1): Operational CA chain incl. root, base64 certs-only PKCS#7' } }, async (_req, reply) => {
        return sendBase64(reply, 'application/pkcs7-mime', await est.caCerts());
      });
      scope.get('/csrattrs', { schema: { tags: ['est'], summary: 'CSR attributes (RFC 7030 §4.5): ecdsa-with-SHA256 over an EC P-256 key' } }, async (_req, reply) => {
        return sendBase64(reply, 'application/csrattrs', CSR_ATTRS_DER);
      });
      const enrol = (op: 'simpleEnroll' | 'simpleReenroll') => async (request: FastifyRequest, reply: FastifyReply) => {
        const creds = credentialsOf(request);
        // Cheap refusals first: no secret is consumed for a request that cannot succeed.
        if (creds.kind === 'none') {
          await est[op](creds, Buffer.alloc(0)); // audits and throws ENROLL_UNAUTHORIZED
        }
        const r = await est[op](creds, csrOf(request));
        return sendBase64(reply, CERTS_ONLY, r.pkcs7Der);
      };
      scope.post('/simpleenroll', { schema: { tags: ['est'], summary: 'Enrol (RFC 7030 §4.2.1): IDevID client certificate or one-time secret (HTTP Basic); base64 PKCS#10 in, certs-only PKCS#7 out' } }, enrol('simpleEnroll'));
      scope.post('/simplereenroll', { schema: { tags: ['est'], summary: 'Re-enrol (RFC 7030 §4.2.2): current LDevID as client certificate, same subject' } }, enrol('simpleReenroll'));
    }, { prefix: EST_PREFIX });
  };
}
