// Test helper: a CA hierarchy made with the real openssl CLI (root; operational and
// manufacturing CAs; a TLS server certificate for 127.0.0.1), stored in the real `ca`,
// `certificate` and `device` tables so that the gateway's checks run against real rows.
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/index.ts';

export interface TestDeviceCert {
  readonly deviceId: string;
  readonly serial: string;
  readonly certPem: string;
  readonly keyPem: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly der: Buffer;
}

export interface OpensslTestPki {
  readonly dir: string;
  readonly rootPem: string;
  readonly operationalPem: string;
  /** Root + operational, for clients verifying the server and the broker verifying devices. */
  readonly caBundleFile: string;
  readonly server: { readonly certPem: string; readonly keyPem: string; readonly chainPem: string };
  /** Creates device + tenant rows and issues an LDevID (stored as the device's current one). */
  enrolDevice(opts: { deviceId: string; tenantId: string; model?: string; state?: string; validDays?: number; ca?: 'operational' | 'manufacturing'; profile?: 'ldevid' | 'idevid'; cn?: string }): Promise<TestDeviceCert>;
  /** Issues a certificate that is NOT stored (an attacker's look-alike from the same CA). */
  issueUnstored(cn: string): TestDeviceCert;
  close(): void;
}

const ossl = (cwd: string, args: string[]): void => void execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });

export async function createOpensslTestPki(db: Kysely<Database>): Promise<OpensslTestPki> {
  const dir = mkdtempSync(join(tmpdir(), 'medtrust-gw-pki-'));
  writeFileSync(join(dir, 'ca.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n');
  writeFileSync(join(dir, 'server.ext'), 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n');
  writeFileSync(join(dir, 'device.ext'), 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n');
  const ec = (name: string): void => ossl(dir, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`]);
  ec('root');
  ossl(dir, ['req', '-x509', '-new', '-key', 'root.key', '-subj', '/CN=MedTrust Test Root/O=MedTrust', '-days', '3650', '-out', 'root.pem', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  for (const ca of ['operational', 'manufacturing']) {
    ec(ca);
    ossl(dir, ['req', '-new', '-key', `${ca}.key`, '-subj', `/CN=MedTrust Test ${ca} CA/O=MedTrust`, '-out', `${ca}.csr`]);
    ossl(dir, ['x509', '-req', '-in', `${ca}.csr`, '-CA', 'root.pem', '-CAkey', 'root.key', '-CAcreateserial', '-days', '3650', '-extfile', 'ca.ext', '-out', `${ca}.pem`]);
  }
  ec('server');
  ossl(dir, ['req', '-new', '-key', 'server.key', '-subj', '/CN=localhost', '-out', 'server.csr']);
  ossl(dir, ['x509', '-req', '-in', 'server.csr', '-CA', 'operational.pem', '-CAkey', 'operational.key', '-CAcreateserial', '-days', '30', '-extfile', 'server.ext', '-out', 'server.pem']);
  const read = (f: string): string => readFileSync(join(dir, f), 'utf8');
  const rootPem = read('root.pem');
  const operationalPem = read('operational.pem');
  writeFileSync(join(dir, 'ca-bundle.pem'), operationalPem + rootPem);
  const now = Date.now();
  for (const ca of ['root', 'operational', 'manufacturing']) {
    const c = new X509Certificate(read(`${ca}.pem`));
    await db.insertInto('ca').values({ name: ca, key_ref: `openssl:${ca}`, certificate_der: c.raw, subject: c.subject, issuer_name: ca === 'root' ? null : 'root', key_id: Buffer.alloc(20), name_sha1: Buffer.alloc(20), not_after: Date.parse(c.validTo), created_at: now, crl_number: 0 })
      .onConflict((oc) => oc.column('name').doNothing()).execute();
  }

  const issue = (cn: string, ca: string, days: number): TestDeviceCert => {
    const name = `dev-${cn.replace(/[^A-Za-z0-9_-]/g, '_')}-${Math.random().toString(36).slice(2, 8)}`;
    ec(name);
    ossl(dir, ['req', '-new', '-key', `${name}.key`, '-subj', `/CN=${cn}`, '-out', `${name}.csr`]);
    ossl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-days', String(days), '-extfile', 'device.ext', '-out', `${name}.pem`]);
    const certPem = read(`${name}.pem`);
    const x = new X509Certificate(certPem);
    let serial = x.serialNumber.toLowerCase();
    if (serial.length % 2 === 1) serial = `0${serial}`;
    if (/^[89a-f]/.test(serial)) serial = `00${serial}`;
    return { deviceId: cn, serial, certPem, keyPem: read(`${name}.key`), certFile: join(dir, `${name}.pem`), keyFile: join(dir, `${name}.key`), der: x.raw };
  };

  return {
    dir, rootPem, operationalPem,
    caBundleFile: join(dir, 'ca-bundle.pem'),
    server: { certPem: read('server.pem'), keyPem: read('server.key'), chainPem: read('server.pem') + operationalPem },
    async enrolDevice(o) {
      await db.insertInto('tenant').values({ id: o.tenantId, kind: 'customer', name: o.tenantId, parent_id: null, time_zone: null, created_at: now }).onConflict((oc) => oc.column('id').doNothing()).execute();
      await db.insertInto('device').values({ id: o.deviceId, serial: `SN-${o.deviceId}`, model: o.model ?? 'pump-x', hardware_revision: 'A', tenant_id: o.tenantId, site_id: null, state: (o.state ?? 'enrolled') as 'enrolled', firmware_version: null, batch_id: null, created_at: now, updated_at: now })
        .onConflict((oc) => oc.column('id').doNothing()).execute();
      const ca = o.ca ?? 'operational';
      const c = issue(o.cn ?? o.deviceId, ca, o.validDays ?? 30);
      const x = new X509Certificate(c.certPem);
      await db.insertInto('certificate').values({
        serial: c.serial, ca_name: ca, profile: o.profile ?? 'ldevid', device_id: o.deviceId, tenant_id: o.tenantId, subject: x.subject,
        not_before: Date.parse(x.validFrom), not_after: Date.parse(x.validTo), spki_sha256: Buffer.alloc(32), der: c.der, status: 'valid',
        revoked_at: null, revocation_reason: null, superseded_by: null, created_at: now,
      }).execute();
      return { ...c, deviceId: o.deviceId };
    },
    issueUnstored: (cn) => issue(cn, 'operational', 30),
    close: () => rmSync(dir, { recursive: true, force: true }),
  };
}
