import 'reflect-metadata';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as x509 from '@peculiar/x509';
import { TEST_DIALECTS } from '../../db/testing.ts';
import { checkCertificate, opensslText, opensslVerify } from '../testing/independent-checks.ts';
import { createPkiTestStack, type PkiTestStack, TEST_PUBLIC_URL } from '../testing/pki-test-stack.ts';

function opensslCsr(dir: string, name: string, keyArgs: readonly string[]): Buffer {
  const out = join(dir, `${name}.der`);
  execFileSync('openssl', ['req', '-new', ...keyArgs, '-nodes', '-keyout', join(dir, `${name}.key`), '-subj', `/CN=${name}`, '-outform', 'DER', '-out', out], { stdio: 'pipe' });
  return readFileSync(out);
}
const p256 = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];

for (const dialect of TEST_DIALECTS) {
  describe(`PKI issuance, store and registry (${dialect})`, () => {
    let s: PkiTestStack;
    let dir: string;
    before(async () => {
      s = await createPkiTestStack(dialect);
      dir = mkdtempSync(join(tmpdir(), 'medtrust-iss-'));
    });
    after(async () => {
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('builds a CA hierarchy that OpenSSL, @peculiar/x509 and pkijs accept, and init is idempotent', async () => {
      const before = await s.cas.list();
      const again = await s.cas.init();
      assert.equal(again.filter((c) => c.created).length, 0);
      assert.deepEqual(again.map((c) => c.sha256Fingerprint).sort(), before.map((c) => c.sha256Fingerprint).sort());
      assert.deepEqual(before.map((c) => c.name).sort(), ['infrastructure', 'manufacturing', 'ocsp-signer:infrastructure', 'ocsp-signer:manufacturing', 'ocsp-signer:operational', 'operational', 'root']);
      const root = await s.cas.get('root');
      const rootX = await checkCertificate(root.certificateDer);
      assert.equal(rootX.publicKey.algorithm.name, 'ECDSA');
      assert.equal((rootX.publicKey.algorithm as EcKeyAlgorithm).namedCurve, 'P-384');
      assert.ok(rootX.getExtension(x509.BasicConstraintsExtension)?.ca);
      for (const name of ['manufacturing', 'operational', 'infrastructure'] as const) {
        const ca = await s.cas.get(name);
        assert.equal(ca.chainDer.length, 2);
        const x = await checkCertificate(ca.certificateDer, root.certificateDer);
        assert.equal(x.getExtension(x509.BasicConstraintsExtension)?.pathLength, 0);
        const [code, out] = opensslVerify(root.certificateDer, [], ca.certificateDer);
        assert.equal(code, 0, out);
        assert.match(out, /: OK\n$/);
        const text = opensslText(ca.certificateDer);
        assert.match(text, new RegExp(`URI:${TEST_PUBLIC_URL}/pki/crl/root.crl`));
        assert.match(text, /Certificate Sign, CRL Sign/);
        const signer = await s.cas.ocspSigner(name);
        const sx = await checkCertificate(signer.certificateDer, ca.certificateDer);
        assert.deepEqual([...(sx.getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? [])], ['1.3.6.1.5.5.7.3.9']);
        assert.ok(sx.getExtension('1.3.6.1.5.5.7.48.1.5'), 'id-pkix-ocsp-nocheck');
        assert.equal(opensslVerify(root.certificateDer, [ca.certificateDer], signer.certificateDer, 'ocsphelper')[0], 0);
        assert.equal((await s.cas.findIssuer(signer.certificateDer))?.name, name);
      }
    });

    it('issues IDevIDs from a device CSR and from a generated key, verified by OpenSSL to the root', async () => {
      const [d1, d2] = await s.devices.createMany([
        { serial: 'PMP-0001', model: 'InfuPump 5', hardwareRevision: 'B', tenantId: s.operatorTenantId },
        { serial: 'PMP-0002', model: 'InfuPump 5', hardwareRevision: 'B', tenantId: s.operatorTenantId },
      ], 'test');
      assert.ok(d1 && d2);
      const fromCsr = await s.issuer.issueIdevid({ device: d1, csrDer: opensslCsr(dir, 'idev1', p256), actor: 'test' });
      const fromKey = await s.issuer.issueIdevid({ device: d2, publicKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey, actor: 'test' });
      const root = await s.cas.get('root');
      const mfg = await s.cas.get('manufacturing');
      for (const c of [fromCsr, fromKey]) {
        const x = await checkCertificate(c.der, mfg.certificateDer);
        assert.equal(x.notAfter.toISOString(), '9999-12-31T23:59:59.000Z');
        assert.equal(c.notAfter, Date.UTC(9999, 11, 31, 23, 59, 59));
        assert.equal(opensslVerify(root.certificateDer, [mfg.certificateDer], c.der, 'sslclient')[0], 0, opensslVerify(root.certificateDer, [mfg.certificateDer], c.der)[1]);
        assert.equal(c.chainPem.split('BEGIN CERTIFICATE').length - 1, 3);
      }
      const text = opensslText(fromCsr.der);
      assert.match(text, /Not After : Dec 31 23:59:59 9999 GMT/);
      assert.match(text, /Subject: serialNumber=PMP-0001,CN=InfuPump 5 PMP-0001,title=InfuPump 5,O=MedTrust/);
      assert.match(text, /Digital Signature/);
      assert.match(text, /OCSP - URI:http:\/\/pki\.test:8080\/ocsp/);
      assert.match(text, /CA Issuers - URI:http:\/\/pki\.test:8080\/pki\/ca\/manufacturing\.crt/);
      assert.match(text, /URI:http:\/\/pki\.test:8080\/pki\/crl\/manufacturing\.crl/);
      assert.match(text, /Othername: ?1\.3\.6\.1\.5\.5\.7\.8\.4|Hardware Module Name/i);
      assert.match(text, /Serial Number:\s*\n\s*([0-9a-f]{2}:){15}[0-9a-f]{2}/);
      const row = await s.certificates.currentForDevice(d1.id, 'idevid');
      assert.equal(row?.serial, fromCsr.serial);
      assert.equal(row?.status, 'valid');
      assert.deepEqual(row?.der, fromCsr.der);
      assert.equal((await s.cas.findIssuer(fromCsr.der))?.name, 'manufacturing');
    });

    it('issues LDevIDs (CN = device id, clientAuth, configured validity) and supersedes the replaced one atomically', async () => {
      const d = await s.devices.create({ serial: 'MON-1', model: 'VitalMon', hardwareRevision: '2', tenantId: s.operatorTenantId }, 'test');
      const events: string[] = [];
      const unsub = s.events.subscribe('certificate.issued', (e) => void events.push(e.serial));
      const first = await s.issuer.issueLdevid({ deviceId: d.id, csrDer: opensslCsr(dir, 'ldev1', p256), actor: 'est' });
      const ops = await s.cas.get('operational');
      const root = await s.cas.get('root');
      const x = await checkCertificate(first.der, ops.certificateDer);
      assert.equal(x.subject, `CN=${d.id}`);
      assert.deepEqual([...(x.getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? [])], ['1.3.6.1.5.5.7.3.2']);
      assert.equal(Math.round((first.notAfter - first.notBefore) / 86_400_000), 365);
      assert.equal(opensslVerify(root.certificateDer, [ops.certificateDer], first.der, 'sslclient')[0], 0);
      assert.notEqual(opensslVerify(root.certificateDer, [ops.certificateDer], first.der, 'sslserver')[0], 0, 'not a server certificate');
      // Re-enrol with the same key (allowed for the same device), replacing the first.
      const second = await s.issuer.issueLdevid({ deviceId: d.id, csrDer: readFileSync(join(dir, 'ldev1.der')), replacesSerial: first.serial, actor: 'est' });
      const old = await s.certificates.get(first.serial);
      assert.equal(old?.status, 'superseded');
      assert.equal(old?.superseded_by, second.serial);
      assert.equal((await s.certificates.currentForDevice(d.id, 'ldevid'))?.serial, second.serial);
      // Store queries: by device, by key, by serial prefix; revoked ones feed the CRL.
      assert.deepEqual((await s.certificates.list({ deviceId: d.id })).map((c) => c.serial).sort(), [first.serial, second.serial].sort());
      assert.equal((await s.certificates.list({ deviceId: d.id, status: 'valid' })).length, 1);
      assert.equal((await s.certificates.bySpki((await s.certificates.get(first.serial))?.spki_sha256 as Buffer)).length, 2);
      assert.equal((await s.certificates.list({ serialPrefix: second.serial.slice(0, 12) }))[0]?.serial, second.serial);
      assert.equal((await s.certificates.get(second.serial.toUpperCase()))?.serial, second.serial);
      assert.equal(await s.certificates.get('00'), undefined);
      await s.t.db.updateTable('certificate').set({ status: 'revoked', revoked_at: Date.now(), revocation_reason: 1 }).where('serial', '=', second.serial).execute();
      assert.deepEqual((await s.certificates.revokedBy('operational')).map((c) => c.serial), [second.serial]);
      assert.equal(await s.certificates.currentForDevice(d.id, 'ldevid'), undefined);
      // Replacing an already superseded one fails and stores nothing.
      const count = await countCerts(s);
      await assert.rejects(s.issuer.issueLdevid({ deviceId: d.id, csrDer: opensslCsr(dir, 'ldev2', p256), replacesSerial: first.serial, actor: 'est' }), { code: 'CERT_REVOKED' });
      assert.equal(await countCerts(s), count);
      unsub();
      assert.deepEqual(events, [first.serial, second.serial]);
      const audit = await s.t.db.selectFrom('audit_entry').select(['action', 'target']).where('action', '=', 'pki.certificate.issued').execute();
      assert.ok(audit.some((a) => a.target === `certificate:${second.serial}`));
    });

    describe('when the request is bad', () => {
      it('refuses a key already certified for another device with KEY_REUSED, storing nothing', async () => {
        const [a, b] = await s.devices.createMany([
          { serial: 'R-1', model: 'VitalMon', hardwareRevision: '2', tenantId: s.operatorTenantId },
          { serial: 'R-2', model: 'VitalMon', hardwareRevision: '2', tenantId: s.operatorTenantId },
        ], 'test');
        const csr = opensslCsr(dir, 'reuse', p256);
        await s.issuer.issueLdevid({ deviceId: (a as { id: string }).id, csrDer: csr, actor: 'est' });
        const count = await countCerts(s);
        await assert.rejects(s.issuer.issueLdevid({ deviceId: (b as { id: string }).id, csrDer: csr, actor: 'est' }), { code: 'KEY_REUSED' });
        await assert.rejects(s.issuer.issueIdevid({ device: b as never, csrDer: csr, actor: 'factory' }), { code: 'KEY_REUSED' });
        // A key of the platform itself (an OCSP signer) is refused too.
        const signerKey = (await s.cas.ocspSigner('operational')).key.publicKey;
        await assert.rejects(s.issuer.issueIdevid({ device: b as never, publicKey: signerKey, actor: 'factory' }), { code: 'KEY_REUSED' });
        assert.equal(await countCerts(s), count);
      });

      it('refuses malformed CSRs, weak keys and unknown devices with their codes, storing nothing', async () => {
        const d = await s.devices.create({ serial: 'BAD-1', model: 'VitalMon', hardwareRevision: '2', tenantId: s.operatorTenantId }, 'test');
        const count = await countCerts(s);
        const good = opensslCsr(dir, 'bad1', p256);
        await assert.rejects(s.issuer.issueLdevid({ deviceId: d.id, csrDer: good.subarray(0, good.length - 3), actor: 'est' }), { code: 'CSR_INVALID' });
        await assert.rejects(s.issuer.issueLdevid({ deviceId: d.id, csrDer: Buffer.from('not a csr'), actor: 'est' }), { code: 'CSR_INVALID' });
        await assert.rejects(s.issuer.issueLdevid({ deviceId: d.id, csrDer: Buffer.alloc(20_000, 0x30), actor: 'est' }), { code: 'CSR_TOO_LARGE' });
        await assert.rejects(s.issuer.issueLdevid({ deviceId: d.id, csrDer: opensslCsr(dir, 'k1', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:secp256k1']), actor: 'est' }), { code: 'KEY_POLICY_VIOLATION' });
        await assert.rejects(s.issuer.issueLdevid({ deviceId: d.id, csrDer: opensslCsr(dir, 'r1', ['-newkey', 'rsa:1024']), actor: 'est' }), { code: 'KEY_POLICY_VIOLATION' });
        await assert.rejects(s.issuer.issueLdevid({ deviceId: 'dev_nope', csrDer: good, actor: 'est' }), { code: 'DEVICE_UNKNOWN' });
        assert.equal(await countCerts(s), count);
      });
    });

    it('issues a TLS server certificate with DNS and IP names that OpenSSL accepts for serverAuth', async () => {
      const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const c = await s.issuer.issueTlsServer({ hostnames: ['localhost', 'medtrust.example'], ipAddresses: ['127.0.0.1', '::1'], publicKey });
      const infra = await s.cas.get('infrastructure');
      const root = await s.cas.get('root');
      await checkCertificate(c.der, infra.certificateDer);
      assert.equal(opensslVerify(root.certificateDer, [infra.certificateDer], c.der, 'sslserver')[0], 0);
      assert.match(opensslText(c.der), /DNS:localhost, DNS:medtrust\.example, IP Address:127\.0\.0\.1, IP Address:0:0:0:0:0:0:0:1/);
      // Renewing the platform's own certificate on the same key is allowed.
      await s.issuer.issueTlsServer({ hostnames: ['localhost'], ipAddresses: [], publicKey });
    });

    it('walks the device lifecycle and refuses forbidden moves with DEVICE_STATE_INVALID', async () => {
      const d = await s.devices.create({ serial: 'LC-1', model: 'VitalMon', hardwareRevision: '2', tenantId: s.operatorTenantId }, 'test');
      const seen: string[] = [];
      const unsub = s.events.subscribe('device.state-changed', (e) => void seen.push(`${e.from}>${e.to}`));
      await assert.rejects(s.devices.transition(d.id, 'active', 'test'), { code: 'DEVICE_STATE_INVALID' });
      for (const to of ['provisioned', 'enrolled', 'active', 'quarantined', 'active', 'decommissioned'] as const) assert.equal((await s.devices.transition(d.id, to, 'test')).state, to);
      await assert.rejects(s.devices.transition(d.id, 'active', 'test'), { code: 'DEVICE_STATE_INVALID' });
      await assert.rejects(s.devices.transition('dev_missing', 'active', 'test'), { code: 'DEVICE_UNKNOWN' });
      unsub();
      assert.deepEqual(seen, ['manufactured>provisioned', 'provisioned>enrolled', 'enrolled>active', 'active>quarantined', 'quarantined>active', 'active>decommissioned']);
      assert.equal((await s.devices.getBySerial('LC-1')).id, d.id);
      await assert.rejects(s.issuer.issueLdevid({ deviceId: d.id, csrDer: opensslCsr(dir, 'lc', p256), actor: 'est' }), { code: 'DEVICE_STATE_INVALID' });
      await assert.rejects(s.devices.create({ serial: 'LC-1', model: 'VitalMon', hardwareRevision: '2', tenantId: s.operatorTenantId }, 'test'), { code: 'CONFLICT' });
      await assert.rejects(s.devices.create({ serial: 'bad serial!', model: 'VitalMon', hardwareRevision: '2', tenantId: s.operatorTenantId }, 'test'), { code: 'REQUEST_INVALID' });
    });
  });
}

async function countCerts(s: PkiTestStack): Promise<number> {
  const r = await s.t.db.selectFrom('certificate').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(r.n);
}
