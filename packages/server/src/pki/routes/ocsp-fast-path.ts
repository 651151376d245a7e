import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpFastPath } from '../../http/index.ts';
import type { OcspAnswer, OcspResponder } from '../ocsp/index.ts';

/** OCSP requests are a few hundred bytes; anything much larger is not one. */
export const MAX_OCSP_REQUEST_BYTES = 16 * 1024;
const B64_RE = /^[A-Za-z0-9+/_-]*={0,2}$/;
const OCSP_RESPONSE = 'application/ocsp-response';
const NO_STORE = 'no-store';

/**
 * The DER request of `GET /ocsp/<url-encoded base64 or base64url>` (RFC 6960 §A.1): empty (hence
 * malformedRequest) when it is not base64 or too long; undefined when the URL does not decode.
 */
export function ocspGetRequestDer(url: string): Buffer | undefined {
  // The raw path, not a router's decoded wildcard: base64 holds '/', '+' and '=' that must survive.
  const raw = url.slice(url.indexOf('/ocsp/') + 6).split('?')[0] ?? '';
  let b64: string;
  try {
    b64 = raw.includes('%') ? decodeURIComponent(raw) : raw;
  } catch {
    return undefined;
  }
  return B64_RE.test(b64) && b64.length <= (MAX_OCSP_REQUEST_BYTES * 4) / 3 ? Buffer.from(b64, 'base64') : Buffer.alloc(0);
}

/** Cache-Control of an OCSP answer: RFC 5019 §6.2 lets HTTP caches keep GET answers until stale. */
export function ocspCacheControl(a: OcspAnswer, cacheable: boolean): string {
  return cacheable && a.maxAgeSeconds !== undefined ? `max-age=${a.maxAgeSeconds}, public, no-transform, must-revalidate` : NO_STORE;
}

function send(res: ServerResponse, a: OcspAnswer, cacheable: boolean): void {
  try {
    // RFC 6960 §A.1: error statuses are OCSP responses too, sent with HTTP 200.
    res.writeHead(200, { 'content-type': OCSP_RESPONSE, 'content-length': a.der.length, 'cache-control': ocspCacheControl(a, cacheable) });
    res.end(a.der);
  } catch {
    // The client went away mid-answer; nothing to tell it.
    res.destroy();
  }
}

function answer(ocsp: OcspResponder, res: ServerResponse, der: Buffer, cacheable: boolean): void {
  const hit = ocsp.cachedAnswer(der);
  if (hit) send(res, hit, cacheable);
  // respond() never rejects: every failure is an OCSP error status.
  else void ocsp.respond(der).then((a) => send(res, a, cacheable));
}

/**
 * The OCSP responder as a raw node:http handler, run before Fastify. Why: OCSP is the hot public
 * path (every relying party, every TLS handshake with stapling off), and Fastify's per-request
 * work (routing, hooks, reply object, content-type parsing, the duration histogram) cost more CPU
 * than a cached answer itself. It takes only the well-formed cases: `POST /ocsp` with
 * Content-Type application/ocsp-request and a Content-Length within the limit, and
 * `GET /ocsp/<base64>` that URL-decodes. Everything else (wrong type, chunked or oversized body,
 * undecodable URL, HEAD) falls through to the Fastify routes, which give the coded errors
 * (415, 413, 400) and keep the OpenAPI description; the answers are the same either way.
 */
export function ocspFastPath(ocsp: OcspResponder): HttpFastPath {
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    const url = req.url ?? '';
    if (req.method === 'GET') {
      if (!url.startsWith('/ocsp/')) return false;
      const der = ocspGetRequestDer(url);
      if (!der) return false;
      answer(ocsp, res, der, true);
      return true;
    }
    if (req.method !== 'POST' || (url !== '/ocsp' && !url.startsWith('/ocsp?'))) return false;
    if (req.headers['content-type'] !== 'application/ocsp-request') return false;
    const length = Number(req.headers['content-length']);
    if (!Number.isInteger(length) || length < 0 || length > MAX_OCSP_REQUEST_BYTES) return false;
    let body: Buffer | undefined;
    let chunks: Buffer[] | undefined;
    req.on('data', (c: Buffer) => {
      // One chunk is the usual case: keep it rather than copy it.
      if (!body) body = c;
      else (chunks ??= [body]).push(c);
    });
    req.on('end', () => answer(ocsp, res, chunks ? Buffer.concat(chunks) : body ?? Buffer.alloc(0), false));
    req.on('error', () => res.destroy());
    return true;
  };
}
