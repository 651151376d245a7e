import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CertificateAuthorities, Issuer } from '../../../pki/index.ts';
import { type MosquittoFiles, mosquittoPasswordLine, PLATFORM_MQTT_USER, renderDeviceAcl, renderMosquittoConf, renderPlatformAcl } from './mosquitto-config.ts';

export interface MosquittoBundle {
  readonly conf: string;
  readonly confFile: string;
  /** What to set MEDTRUST_MQTT_URL to (holds the platform password: keep it secret). */
  readonly platformUrl: string;
  readonly files: MosquittoFiles;
}

/** RFC 7468 PEM of a DER CRL (Mosquitto's crlfile is PEM). */
function crlPem(der: Buffer): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN X509 CRL-----\n${b64}\n-----END X509 CRL-----\n`;
}

/**
 * Writes everything an external Mosquitto needs into `dir`: the Operational CA bundle and its
 * CRL, a server certificate from the infrastructure CA, the ACLs and the platform's password.
 * Rerun it to refresh the CRL (then SIGHUP Mosquitto); docs/gateway.md.
 */
export async function writeMosquittoBundle(o: {
  dir: string; cas: CertificateAuthorities; issuer: Issuer; operationalCrlDer: Buffer;
  devicePort: number; deviceBindHost: string; platformPort: number; hostnames: readonly string[]; ipAddresses: readonly string[]; runAsUser?: string;
}): Promise<MosquittoBundle> {
  const dir = resolve(o.dir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const files: MosquittoFiles = {
    dir, caBundle: join(dir, 'ca-bundle.pem'), crl: join(dir, 'operational.crl.pem'), serverCert: join(dir, 'server-chain.pem'), serverKey: join(dir, 'server.key'),
    deviceAcl: join(dir, 'device.acl'), platformAcl: join(dir, 'platform.acl'), platformPasswd: join(dir, 'platform.passwd'),
  };
  const [operational, root] = await Promise.all([o.cas.get('operational'), o.cas.get('root')]);
  writeFileSync(files.caBundle, operational.certificatePem + root.certificatePem);
  writeFileSync(files.crl, crlPem(o.operationalCrlDer));
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const cert = await o.issuer.issueTlsServer({ hostnames: o.hostnames, ipAddresses: o.ipAddresses, publicKey });
  writeFileSync(files.serverCert, cert.chainPem);
  writeFileSync(files.serverKey, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  writeFileSync(files.deviceAcl, renderDeviceAcl());
  writeFileSync(files.platformAcl, renderPlatformAcl());
  const password = randomBytes(24).toString('base64url');
  writeFileSync(files.platformPasswd, mosquittoPasswordLine(PLATFORM_MQTT_USER, password), { mode: 0o600 });
  // Mosquitto reads these as its own user; the key and password file stay private to it.
  for (const f of [files.serverKey, files.platformPasswd]) chmodSync(f, 0o600);
  const conf = renderMosquittoConf({ files, devicePort: o.devicePort, deviceBindHost: o.deviceBindHost, platformPort: o.platformPort, ...(o.runAsUser ? { runAsUser: o.runAsUser } : {}) });
  const confFile = join(dir, 'mosquitto.conf');
  writeFileSync(confFile, conf);
  return { conf, confFile, files, platformUrl: `mqtt://${PLATFORM_MQTT_USER}:${password}@127.0.0.1:${o.platformPort}` };
}
