import { CoreError } from '@medtrust/core';
import type { ArtifactStoreConfig } from './config.ts';

function bad(name: string, why: string): never {
  throw new CoreError('CONFIG_INVALID', `${name}: ${why}`, { details: { setting: name } });
}

// AWS bucket naming rules (3-63 of a-z 0-9 . -, letter or digit at both ends); self-hosted servers accept these too.
const BUCKET_RE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const REGION_RE = /^[a-z0-9-]{1,32}$/;
// AWS "safe characters" for object keys, as path segments.
const PREFIX_RE = /^(?:[A-Za-z0-9!_.*'()-]+\/)*$/;

/** MEDTRUST_ARTIFACT_STORE and the MEDTRUST_S3_* settings; fails with the name of the bad one. */
export function artifactStoreConfig(get: (k: string) => string | undefined): ArtifactStoreConfig {
  const kind = get('MEDTRUST_ARTIFACT_STORE') || 'file';
  switch (kind) {
    case 'file':
      return { kind: 'file' };
    case 's3':
      return s3Config(get);
    default:
      return bad('MEDTRUST_ARTIFACT_STORE', `must be "file" or "s3", got "${kind.slice(0, 32)}"`);
  }
}

function s3Config(get: (k: string) => string | undefined): ArtifactStoreConfig {
  const endpoint = get('MEDTRUST_S3_ENDPOINT') || undefined;
  if (endpoint !== undefined) {
    let u: URL;
    try {
      u = new URL(endpoint);
    } catch {
      bad('MEDTRUST_S3_ENDPOINT', 'is not a URL');
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') bad('MEDTRUST_S3_ENDPOINT', `must use http: or https:, got ${u.protocol}`);
    // Credentials in the URL would end up in logs and error messages; they have their own settings.
    if (u.username || u.password) bad('MEDTRUST_S3_ENDPOINT', 'must not contain credentials; use MEDTRUST_S3_ACCESS_KEY_ID and MEDTRUST_S3_SECRET_ACCESS_KEY');
    if (u.search || u.hash) bad('MEDTRUST_S3_ENDPOINT', 'must not have a query or fragment');
  }
  const bucket = get('MEDTRUST_S3_BUCKET') ?? '';
  if (!bucket) bad('MEDTRUST_S3_BUCKET', 'is required when MEDTRUST_ARTIFACT_STORE=s3');
  if (!BUCKET_RE.test(bucket) || bucket.includes('..')) bad('MEDTRUST_S3_BUCKET', 'must be 3-63 of a-z 0-9 . - starting and ending with a letter or digit');
  const region = get('MEDTRUST_S3_REGION') || 'us-east-1';
  if (!REGION_RE.test(region)) bad('MEDTRUST_S3_REGION', 'must be a region name such as us-east-1');
  let prefix = get('MEDTRUST_S3_PREFIX') ?? '';
  if (prefix !== '' && !prefix.endsWith('/')) prefix += '/';
  if (!PREFIX_RE.test(prefix) || prefix.length > 512 || prefix.split('/').some((s) => s === '.' || s === '..')) {
    bad('MEDTRUST_S3_PREFIX', 'must be path segments of A-Z a-z 0-9 ! _ . * \' ( ) - separated by /, without a leading /');
  }
  const pathStyleRaw = get('MEDTRUST_S3_FORCE_PATH_STYLE') || '';
  let forcePathStyle: boolean;
  if (pathStyleRaw === '') forcePathStyle = endpoint !== undefined;
  else if (pathStyleRaw === 'true' || pathStyleRaw === '1') forcePathStyle = true;
  else if (pathStyleRaw === 'false' || pathStyleRaw === '0') forcePathStyle = false;
  else bad('MEDTRUST_S3_FORCE_PATH_STYLE', 'must be true or false');
  const accessKeyId = get('MEDTRUST_S3_ACCESS_KEY_ID') || undefined;
  const secretAccessKey = get('MEDTRUST_S3_SECRET_ACCESS_KEY') || undefined;
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    bad(accessKeyId === undefined ? 'MEDTRUST_S3_ACCESS_KEY_ID' : 'MEDTRUST_S3_SECRET_ACCESS_KEY', 'set both MEDTRUST_S3_ACCESS_KEY_ID and MEDTRUST_S3_SECRET_ACCESS_KEY, or neither (the AWS default credential chain)');
  }
  const credentials = accessKeyId !== undefined && secretAccessKey !== undefined ? { accessKeyId, secretAccessKey } : undefined;
  return { kind: 's3', endpoint: endpoint?.replace(/\/+$/, ''), bucket, region, prefix, forcePathStyle, credentials };
}
