import { isMedTrustError } from '@medtrust/core';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { statusOf } from './error-catalogue.ts';

/** The wire shape of every error: `{ error: { code, message, details?, requestId } }`. */
export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly details?: unknown; readonly requestId: string };
}

/** Maps thrown errors to the catalogue's status and a coded body; unknown errors become INTERNAL. */
export function handleError(error: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const requestId = String(request.id);
  if (isMedTrustError(error)) {
    const status = statusOf(error.code);
    if (status >= 500) request.log.error({ err: error }, error.message);
    else request.log.info({ code: error.code }, error.message);
    const body: ErrorBody = { error: { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}), requestId } };
    void reply.status(status).send(body);
    return;
  }
  const fe = error as FastifyError;
  if (fe.validation) {
    void reply.status(400).send({ error: { code: 'REQUEST_INVALID', message: fe.message, details: { validation: fe.validation.map((v) => ({ path: v.instancePath, message: v.message })) }, requestId } });
    return;
  }
  const mapped = fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? 'PAYLOAD_TOO_LARGE'
    : fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? 'UNSUPPORTED_MEDIA_TYPE'
    : fe.statusCode !== undefined && fe.statusCode >= 400 && fe.statusCode < 500 ? 'REQUEST_INVALID'
    : 'INTERNAL';
  if (mapped === 'INTERNAL') request.log.error({ err: error }, 'unhandled error');
  void reply.status(statusOf(mapped)).send({ error: { code: mapped, message: mapped === 'INTERNAL' ? 'internal error' : fe.message, requestId } });
}
