import { UpdateError } from '../errors.ts';

type Reason = 'credentials' | 'bucket' | 'unreachable' | 'integrity' | 'server';

const CREDENTIAL_ERRORS = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied', 'ExpiredToken', 'InvalidToken', 'CredentialsProviderError', 'RequestTimeTooSkewed']);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);

/**
 * An S3 failure as ARTIFACT_STORE_UNAVAILABLE, with a message saying which setting to fix.
 * The SDK error is not kept as the cause: only its name, status and message are, so nothing
 * of the request (headers, signing material) can reach a log or an API answer.
 */
export function s3Failure(e: unknown, operation: string, bucket: string): UpdateError {
  const err = e instanceof Error ? e : new Error(String(e));
  const name = err.name;
  const code = (err as { code?: unknown }).code;
  const status = (err as { $metadata?: { httpStatusCode?: unknown } }).$metadata?.httpStatusCode;
  const reason = reasonOf(name, typeof code === 'string' ? code : undefined, typeof status === 'number' ? status : undefined);
  const fix = {
    credentials: 'check MEDTRUST_S3_ACCESS_KEY_ID / MEDTRUST_S3_SECRET_ACCESS_KEY (or the AWS credential chain), the bucket policy (GetObject, PutObject, ListBucket) and the clock',
    bucket: `create bucket "${bucket}" or correct MEDTRUST_S3_BUCKET, MEDTRUST_S3_REGION and MEDTRUST_S3_FORCE_PATH_STYLE`,
    unreachable: 'check that MEDTRUST_S3_ENDPOINT is right and the S3 server is up and reachable',
    integrity: 'the bytes changed on the way to the S3 server; retry, and check proxies between this node and the server',
    server: 'the S3 server failed; see its logs and retry',
  }[reason];
  const summary = `${name}${typeof status === 'number' ? ` (HTTP ${status})` : ''}: ${err.message.slice(0, 200)}`;
  return new UpdateError('ARTIFACT_STORE_UNAVAILABLE', `S3 ${operation} failed: ${summary}; ${fix}`, {
    details: { reason, operation, s3Error: name, ...(typeof status === 'number' ? { httpStatus: status } : {}) },
    cause: new Error(summary),
  });
}

function reasonOf(name: string, code: string | undefined, status: number | undefined): Reason {
  if (CREDENTIAL_ERRORS.has(name) || status === 401 || status === 403) return 'credentials';
  if (name === 'NoSuchBucket' || name === 'PermanentRedirect' || name === 'AuthorizationHeaderMalformed' || status === 301) return 'bucket';
  if (name === 'BadDigest' || name === 'InvalidDigest') return 'integrity';
  if ((code !== undefined && NETWORK_CODES.has(code)) || name === 'TimeoutError' || status === undefined) return 'unreachable';
  return 'server';
}
