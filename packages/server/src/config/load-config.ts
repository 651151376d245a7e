import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { CoreError } from '@medtrust/core';
import type { ArtifactStoreConfig, Config, KeyStoreConfig } from './config.ts';
import { artifactStoreConfig } from './artifact-store-config.ts';

type Env = Readonly<Record<string, string | undefined>>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function bad(name: string, why: string): never {
  throw new CoreError('CONFIG_INVALID', `${name}: ${why}`, { details: { setting: name } });
}

function port(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) bad(name, `must be a port number 0-65535, got "${raw}"`);
  return n;
}

function positiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) bad(name, `must be a positive integer, got "${raw}"`);
  return n;
}

function url(name: string, raw: string, protocols: readonly string[]): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    bad(name, `is not a URL: "${raw}"`);
  }
  if (!protocols.includes(u.protocol)) bad(name, `must use ${protocols.join(' or ')}, got ${u.protocol}`);
  return raw.replace(/\/+$/, '');
}

/**
 * Reads `MEDTRUST_*` settings from the environment, over an optional JSON file named by
 * `MEDTRUST_CONFIG_FILE` (keys are the env names without the prefix, in camelCase or as env
 * names). Fails fast with the name of the bad setting.
 */
export function loadConfig(env: Env = process.env, cwd: string = process.cwd()): Config {
  const merged: Record<string, string | undefined> = {};
  const file = env.MEDTRUST_CONFIG_FILE;
  if (file) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(resolve(cwd, file), 'utf8'));
    } catch (cause) {
      throw new CoreError('CONFIG_INVALID', `MEDTRUST_CONFIG_FILE: cannot read ${file} as JSON`, { cause, details: { setting: 'MEDTRUST_CONFIG_FILE' } });
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) bad('MEDTRUST_CONFIG_FILE', 'must hold a JSON object');
    for (const [k, v] of Object.entries(parsed)) {
      const envName = k.startsWith('MEDTRUST_') ? k : `MEDTRUST_${k.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}`;
      if (!KNOWN.has(envName)) bad('MEDTRUST_CONFIG_FILE', `unknown setting "${k}"`);
      merged[envName] = typeof v === 'string' ? v : JSON.stringify(v);
    }
  }
  for (const [k, v] of Object.entries(env)) if (k.startsWith('MEDTRUST_') && v !== undefined) merged[k] = v;

  const get = (k: string): string | undefined => merged[k];
  const dataDir = resolve(cwd, get('MEDTRUST_DATA_DIR') ?? './data');
  const databaseUrl = get('MEDTRUST_DATABASE_URL') || undefined;
  if (databaseUrl !== undefined) url('MEDTRUST_DATABASE_URL', databaseUrl, ['postgres:', 'postgresql:']);
  const httpPort = port('MEDTRUST_HTTP_PORT', get('MEDTRUST_HTTP_PORT'), 8080);
  const logLevel = (get('MEDTRUST_LOG_LEVEL') ?? 'info') as Config['logLevel'];
  if (!LOG_LEVELS.includes(logLevel)) bad('MEDTRUST_LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`);
  const publicUrlRaw = get('MEDTRUST_PUBLIC_URL');
  const mqttUrl = get('MEDTRUST_MQTT_URL') || undefined;
  if (mqttUrl !== undefined) url('MEDTRUST_MQTT_URL', mqttUrl, ['mqtt:', 'mqtts:', 'tcp:', 'tls:', 'ssl:']);

  const config: Config = {
    dataDir,
    databaseUrl,
    bindHost: get('MEDTRUST_BIND_HOST') ?? '127.0.0.1',
    httpPort,
    httpsPort: port('MEDTRUST_HTTPS_PORT', get('MEDTRUST_HTTPS_PORT'), 8443),
    mqttPort: port('MEDTRUST_MQTT_PORT', get('MEDTRUST_MQTT_PORT'), 8883),
    // With port 0 the real port is known only after listen; the platform fills it in then.
    publicUrl: publicUrlRaw ? url('MEDTRUST_PUBLIC_URL', publicUrlRaw, ['http:', 'https:']) : `http://localhost:${httpPort}`,
    tlsHostnames: (get('MEDTRUST_TLS_HOSTNAMES') ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    masterKey: get('MEDTRUST_MASTER_KEY') || undefined,
    keyStore: keyStoreConfig(get),
    logLevel,
    ldevidValidityDays: positiveInt('MEDTRUST_LDEVID_VALIDITY_DAYS', get('MEDTRUST_LDEVID_VALIDITY_DAYS'), 365),
    crlValidityHours: positiveInt('MEDTRUST_CRL_VALIDITY_HOURS', get('MEDTRUST_CRL_VALIDITY_HOURS'), 24),
    ocspCacheSeconds: positiveInt('MEDTRUST_OCSP_CACHE_SECONDS', get('MEDTRUST_OCSP_CACHE_SECONDS'), 3600),
    enrollTokenTtlHours: positiveInt('MEDTRUST_ENROLL_TOKEN_TTL_HOURS', get('MEDTRUST_ENROLL_TOKEN_TTL_HOURS'), 72),
    mqttUrl,
    // It becomes part of MQTT client ids (medtrust-<node>-<n>).
    nodeName: get('MEDTRUST_NODE_NAME') || hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 64) || 'node',
    artifactStore: artifactStoreConfig(get),
  };
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(config.nodeName)) bad('MEDTRUST_NODE_NAME', 'must be 1-64 letters, digits, dots, dashes or underscores');
  if (config.masterKey !== undefined && config.masterKey.length < 16) bad('MEDTRUST_MASTER_KEY', 'must be at least 16 characters');
  return Object.freeze({ ...config, tlsHostnames: Object.freeze([...config.tlsHostnames]), artifactStore: deepFreeze(config.artifactStore) });
}

function keyStoreConfig(get: (k: string) => string | undefined): KeyStoreConfig {
  const kind = get('MEDTRUST_KEYSTORE') ?? 'file';
  switch (kind) {
    case 'file':
      return { kind: 'file' };
    case 'pkcs11': {
      const library = get('MEDTRUST_PKCS11_LIBRARY');
      const pin = get('MEDTRUST_PKCS11_PIN');
      if (!library) bad('MEDTRUST_PKCS11_LIBRARY', 'is required when MEDTRUST_KEYSTORE=pkcs11');
      if (!pin) bad('MEDTRUST_PKCS11_PIN', 'is required when MEDTRUST_KEYSTORE=pkcs11');
      const slotRaw = get('MEDTRUST_PKCS11_SLOT');
      const slot = slotRaw === undefined || slotRaw === '' ? undefined : Number(slotRaw);
      if (slot !== undefined && !Number.isInteger(slot)) bad('MEDTRUST_PKCS11_SLOT', 'must be an integer');
      return { kind: 'pkcs11', library, pin, slot, tokenLabel: get('MEDTRUST_PKCS11_TOKEN_LABEL') || undefined };
    }
    default:
      return bad('MEDTRUST_KEYSTORE', `must be "file" or "pkcs11", got "${kind}"`);
  }
}

const KNOWN = new Set([
  'MEDTRUST_DATA_DIR', 'MEDTRUST_DATABASE_URL', 'MEDTRUST_BIND_HOST', 'MEDTRUST_HTTP_PORT', 'MEDTRUST_HTTPS_PORT',
  'MEDTRUST_MQTT_PORT', 'MEDTRUST_PUBLIC_URL', 'MEDTRUST_TLS_HOSTNAMES', 'MEDTRUST_MASTER_KEY', 'MEDTRUST_KEYSTORE',
  'MEDTRUST_PKCS11_LIBRARY', 'MEDTRUST_PKCS11_PIN', 'MEDTRUST_PKCS11_SLOT', 'MEDTRUST_PKCS11_TOKEN_LABEL',
  'MEDTRUST_LOG_LEVEL', 'MEDTRUST_LDEVID_VALIDITY_DAYS', 'MEDTRUST_CRL_VALIDITY_HOURS', 'MEDTRUST_OCSP_CACHE_SECONDS',
  'MEDTRUST_ENROLL_TOKEN_TTL_HOURS', 'MEDTRUST_MQTT_URL', 'MEDTRUST_NODE_NAME',
  'MEDTRUST_ARTIFACT_STORE', 'MEDTRUST_S3_ENDPOINT', 'MEDTRUST_S3_BUCKET', 'MEDTRUST_S3_REGION', 'MEDTRUST_S3_PREFIX',
  'MEDTRUST_S3_FORCE_PATH_STYLE', 'MEDTRUST_S3_ACCESS_KEY_ID', 'MEDTRUST_S3_SECRET_ACCESS_KEY',
]);

function deepFreeze(a: ArtifactStoreConfig): ArtifactStoreConfig {
  return a.kind === 's3' && a.credentials ? Object.freeze({ ...a, credentials: Object.freeze({ ...a.credentials }) }) : Object.freeze(a);
}
