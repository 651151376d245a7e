// EST (RFC 7030) end to end: a running platform on both dialects, real curl and openssl.
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '@medtrust/core';
import { loadConfig, Platform } from '@medtrust/server';
import { createTestDatabase, TEST_DIALECTS, type TestDatabase } from '../../packages/server/src/db/testing.ts';
import { curl, type CurlResult, decodeCerts, httpsPost, httpsStatus, makeCsr, openssl } from './est-helpers.ts';

const EST = '/.well-known/est';

interface SampleDevice {
  readonly id: string;
  readonly serial: string;
  /** Files in the test dir: IDevID certificate and key (PEM). */
  readonly idevidCert: string;
  readonly idevidKey: string;
}

for (const dialect of TEST_DIALECTS) {
  describe(`EST over HTTPS with curl and openssl (${dialect})`, () => {
    let t: TestDatabase;
    let p: Platform;
    let dir: string;
    let base: string;
    let tenantId: string;
    let seq = 0;

    async function provision(): Promise<SampleDevice> {
      const s = p.services;
      seq += 1;
      const serial = `EST${dialect.slice(0, 2).toUpperCase()}${String(seq).padStart(4, '0')}`;
      const device = await s.devices.create({ serial, model: 'PumpX', hardwareRevision: 'A', tenantId }, 'test');
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const idevid = await s.issuer.issueIdevid({ device: { id: device.id, serial, model: 'PumpX', hardwareRevision: 'A' }, publicKey, actor: 'test' });
      writeFileSync(join(dir, `${serial}.idevid.pem`), idevid.pem);
      writeFileSync(join(dir, `${serial}.idevid.key`), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
      return { id: device.id, serial, idevidCert: `${serial}.idevid.pem`, idevidKey: `${serial}.idevid.key` };
    }

    async function certificateRows(): Promise<number> {
      const r = await p.services.db.selectFrom('certificate').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      return Number(r.n);
    }

    /** POSTs a CSR file with curl, trusting only the root from cacerts (never -k). */
    function enrol(op: 'simpleenroll' | 'simplereenroll', csrFile: string, auth: readonly string[], contentType = 'application/pkcs10'): Promise<CurlResult> {
      return curl(dir, ['--cacert', 'root.pem', ...auth, '-H', `Content-Type: ${contentType}`, '--data-binary', `@${csrFile}`, `${base}${EST}/${op}`]);
    }

    /** A refused request: the code, and that nothing stored changed and the server still answers. */
    async function assertRefused(r: CurlResult | Promise<CurlResult>, status: number, code: string, rowsBefore: number): Promise<void> {
      const res = await r;
      assert.equal(res.code, code, res.body.toString());
      assert.equal(res.status, status);
      assert.equal(await certificateRows(), rowsBefore);
      assert.equal(await httpsStatus(`${base}${EST}/cacerts`, readFileSync(join(dir, 'root.pem'), 'utf8')), 200);
    }

    async function secretFor(d: SampleDevice, ttlHours?: number): Promise<string[]> {
      const c = await p.services.enrollTokens.create({ deviceId: d.id, createdBy: 'test', ttlHours });
      return ['-u', `${c.username}:${c.password}`];
    }

    before(async () => {
      t = await createTestDatabase(dialect);
      dir = mkdtempSync(join(tmpdir(), 'medtrust-est-e2e-'));
      const env = { MEDTRUST_DATA_DIR: t.dataDir, MEDTRUST_HTTP_PORT: '0', MEDTRUST_HTTPS_PORT: '0', MEDTRUST_MQTT_PORT: '0', MEDTRUST_LOG_LEVEL: 'silent', ...(t.url ? { MEDTRUST_DATABASE_URL: t.url } : {}) };
      p = await Platform.open({ config: loadConfig(env) });
      const listening = await p.start();
      // Devices reach the listener by name; the certificate names localhost (checked by curl).
      base = listening.httpsUrl.replace('127.0.0.1', 'localhost');
      tenantId = await p.services.tenants.ensureOperator();
      // RFC 7030 §4.1.1 bootstrap: the root is distributed out of band (here: from the CA itself).
      writeFileSync(join(dir, 'bootstrap-root.pem'), (await p.services.cas.get('root')).certificatePem);
      // What a device keeps from cacerts (the first test checks the served bundle is exactly this).
      const { file } = await decodeCerts(dir, (await curl(dir, ['--cacert', 'bootstrap-root.pem', `${base}${EST}/cacerts`])).body, 'bundle');
      writeFileSync(join(dir, 'chain.pem'), readFileSync(join(dir, file)));
      writeFileSync(join(dir, 'root.pem'), readFileSync(join(dir, 'bootstrap-root.pem')));
    });
    after(async () => {
      await p?.stop();
      await t.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('cacerts: certs-only PKCS#7 of the Operational CA chain with the root; TLS verifies by name and IP', async () => {
      const r = await curl(dir, ['--cacert', 'bootstrap-root.pem', `${base}${EST}/cacerts`]);
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-type'], 'application/pkcs7-mime');
      assert.equal(r.headers['content-transfer-encoding'], 'base64');
      const { pems, file } = await decodeCerts(dir, r.body, 'cacerts');
      assert.equal(pems.length, 2);
      const subjects = await Promise.all(pems.map((pem) => openssl(dir, ['x509', '-noout', '-subject', '-issuer', '-in', '@in'], Buffer.from(pem))));
      const root = pems.find((_, i) => subjects[i]!.split('\n')[0]!.replace('subject=', '') === subjects[i]!.split('\n')[1]!.replace('issuer=', ''));
      assert.ok(root, 'the bundle holds a self-signed root');
      assert.equal(root.trim(), readFileSync(join(dir, 'bootstrap-root.pem'), 'utf8').trim());
      assert.deepEqual(readFileSync(join(dir, file)), readFileSync(join(dir, 'chain.pem')));
      const op = await p.services.cas.get('operational');
      assert.deepEqual(pems.map((pem) => new X509Certificate(pem).raw), [...op.chainDer]);
      // The server presents its chain up to the root: a client that trusts only the root verifies it.
      const byIp = await curl(dir, ['--cacert', 'root.pem', `${base.replace('localhost', '127.0.0.1')}${EST}/cacerts`]);
      assert.equal(byIp.status, 200);
    });

    it('csrattrs: base64 DER naming ecdsa-with-SHA256 and P-256', async () => {
      const r = await curl(dir, ['--cacert', 'root.pem', `${base}${EST}/csrattrs`]);
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-type'], 'application/csrattrs');
      const parsed = await openssl(dir, ['asn1parse', '-inform', 'DER', '-in', '@in'], Buffer.from(r.body.toString(), 'base64'));
      assert.match(parsed, /ecdsa-with-SHA256/);
      assert.match(parsed, /prime256v1/);
    });

    it('simpleenroll with a one-time secret issues an LDevID with CN = device id; a replay is ENROLL_SECRET_USED', async () => {
      const d = await provision();
      const auth = await secretFor(d);
      const { csrB64 } = await makeCsr(dir, `${d.serial}-ld`, { subject: '/CN=attacker-chosen' });
      const r = await enrol('simpleenroll', csrB64, auth);
      assert.equal(r.status, 200, r.body.toString());
      assert.equal(r.headers['content-type'], 'application/pkcs7-mime; smime-type=certs-only');
      const { file, pems } = await decodeCerts(dir, r.body, `${d.serial}-ldevid`);
      assert.equal(pems.length, 1);
      assert.match(await openssl(dir, ['verify', '-CAfile', 'root.pem', '-untrusted', 'chain.pem', file]), /: OK/);
      assert.match(await openssl(dir, ['x509', '-noout', '-subject', '-in', file]), new RegExp(`CN ?= ?${d.id}`));
      assert.equal((await p.services.devices.get(d.id)).state, 'enrolled');
      const rows = await certificateRows();
      const again = await makeCsr(dir, `${d.serial}-ld2`);
      const replay = await enrol('simpleenroll', again.csrB64, auth);
      assert.equal(replay.headers['www-authenticate']?.startsWith('Basic'), true);
      await assertRefused(replay, 401, 'ENROLL_SECRET_USED', rows);
    });

    it('simpleenroll with the IDevID as client certificate, then simplereenroll with the LDevID supersedes it', async () => {
      const d = await provision();
      const { key, csrB64 } = await makeCsr(dir, `${d.serial}-ld`);
      const r = await enrol('simpleenroll', csrB64, ['--cert', d.idevidCert, '--key', d.idevidKey]);
      assert.equal(r.status, 200, r.body.toString());
      const first = await decodeCerts(dir, r.body, `${d.serial}-ldevid1`);
      assert.match(await openssl(dir, ['verify', '-CAfile', 'root.pem', '-untrusted', 'chain.pem', first.file]), /: OK/);
      const firstSerial = (await openssl(dir, ['x509', '-noout', '-serial', '-in', first.file])).trim().replace('serial=', '').toLowerCase();

      // RFC 7030 §4.2.2: same subject, new key (rekey), authenticated by the current LDevID.
      const renew = await makeCsr(dir, `${d.serial}-ld-renew`, { subject: `/CN=${d.id}` });
      const rr = await enrol('simplereenroll', renew.csrB64, ['--cert', first.file, '--key', key]);
      assert.equal(rr.status, 200, rr.body.toString());
      const second = await decodeCerts(dir, rr.body, `${d.serial}-ldevid2`);
      assert.match(await openssl(dir, ['verify', '-CAfile', 'root.pem', '-untrusted', 'chain.pem', second.file]), /: OK/);
      const old = await p.services.certificates.get(firstSerial.replace(/^(?=[89a-f])/, '00'));
      assert.equal(old?.status, 'superseded');

      // The superseded LDevID no longer re-enrols.
      const rows = await certificateRows();
      const stale = await makeCsr(dir, `${d.serial}-ld-stale`, { subject: `/CN=${d.id}` });
      await assertRefused(enrol('simplereenroll', stale.csrB64, ['--cert', first.file, '--key', key]), 403, 'CERT_REVOKED', rows);
      // An IDevID is not a re-enrolment credential, and an LDevID is not an enrolment one.
      await assertRefused(enrol('simplereenroll', stale.csrB64, ['--cert', d.idevidCert, '--key', d.idevidKey]), 403, 'CERT_UNTRUSTED', rows);
      await assertRefused(enrol('simpleenroll', stale.csrB64, ['--cert', second.file, '--key', renew.key]), 403, 'CERT_UNTRUSTED', rows);
      // RFC 7030 §4.2.2: the subject must not change.
      const other = await makeCsr(dir, `${d.serial}-ld-other`, { subject: '/CN=someone-else' });
      await assertRefused(enrol('simplereenroll', other.csrB64, ['--cert', second.file, '--key', renew.key]), 400, 'SUBJECT_MISMATCH', rows);
      // A secret is not enough to re-enrol.
      await assertRefused(enrol('simplereenroll', stale.csrB64, await secretFor(d)), 401, 'ENROLL_UNAUTHORIZED', rows);
    });

    it('refuses missing, wrong and expired credentials without consuming or storing anything', async () => {
      const d = await provision();
      const { csrB64 } = await makeCsr(dir, `${d.serial}-ld`);
      const rows = await certificateRows();
      const none = await enrol('simpleenroll', csrB64, []);
      assert.match(none.headers['www-authenticate'] ?? '', /^Basic realm=/);
      await assertRefused(none, 401, 'ENROLL_UNAUTHORIZED', rows);
      const auth = await secretFor(d);
      const wrong = [auth[0]!, `${auth[1]!.split(':')[0]!}:${'A'.repeat(32)}`];
      await assertRefused(enrol('simpleenroll', csrB64, wrong), 401, 'ENROLL_UNAUTHORIZED', rows);
      const expiring = await secretFor(d, 0.0001); // 0.36 s
      await new Promise((r) => setTimeout(r, 600));
      await assertRefused(enrol('simpleenroll', csrB64, expiring), 401, 'ENROLL_SECRET_USED', rows);
      // The secret survived the wrong password and still works once, even when two requests race.
      const raced = await Promise.all([enrol('simpleenroll', csrB64, auth), enrol('simpleenroll', csrB64, auth)]);
      assert.deepEqual(raced.map((r) => r.status).sort(), [200, 401]);
      assert.equal(raced.find((r) => r.status === 401)?.code, 'ENROLL_SECRET_USED');
      assert.equal(await certificateRows(), rows + 1);
    });

    it('refuses a decommissioned device and gives its secret back', async () => {
      const d = await provision();
      const auth = await secretFor(d);
      await p.services.devices.transition(d.id, 'decommissioned', 'test');
      const { csrB64 } = await makeCsr(dir, `${d.serial}-ld`);
      const rows = await certificateRows();
      await assertRefused(enrol('simpleenroll', csrB64, auth), 409, 'DEVICE_STATE_INVALID', rows);
      await assertRefused(enrol('simpleenroll', csrB64, ['--cert', d.idevidCert, '--key', d.idevidKey]), 409, 'DEVICE_STATE_INVALID', rows);
      const token = await p.services.db.selectFrom('enroll_token').select('used_at').where('device_id', '=', d.id).executeTakeFirstOrThrow();
      assert.equal(token.used_at, null);
    });

    it('refuses bad bodies with EST statuses and keeps the secret for a corrected retry', async () => {
      const d = await provision();
      const auth = await secretFor(d);
      const good = await makeCsr(dir, `${d.serial}-ld`);
      const der = readFileSync(join(dir, `${d.serial}-ld.csr.der`));
      const rows = await certificateRows();
      await assertRefused(enrol('simpleenroll', good.csrB64, auth, 'application/json'), 415, 'CONTENT_TYPE_INVALID', rows);
      writeFileSync(join(dir, 'garbage.b64'), 'this is not base64 !!!');
      await assertRefused(enrol('simpleenroll', 'garbage.b64', auth), 400, 'CSR_INVALID', rows);
      writeFileSync(join(dir, 'truncated.b64'), der.subarray(0, der.length - 20).toString('base64'));
      await assertRefused(enrol('simpleenroll', 'truncated.b64', auth), 400, 'CSR_INVALID', rows);
      const forged = Buffer.from(der);
      forged[forged.length - 5]! ^= 0x01; // inside the signature: no proof of possession
      writeFileSync(join(dir, 'forged.b64'), forged.toString('base64'));
      await assertRefused(enrol('simpleenroll', 'forged.b64', auth), 400, 'CSR_INVALID', rows);
      writeFileSync(join(dir, 'large.b64'), Buffer.concat([Buffer.from([0x30, 0x82, 0x4e, 0x20]), Buffer.alloc(20_000)]).toString('base64'));
      await assertRefused(enrol('simpleenroll', 'large.b64', auth), 413, 'CSR_TOO_LARGE', rows);
      writeFileSync(join(dir, 'huge.b64'), Buffer.alloc(200_000, 0x41));
      await assertRefused(enrol('simpleenroll', 'huge.b64', auth), 413, 'PAYLOAD_TOO_LARGE', rows);
      const weak = await makeCsr(dir, `${d.serial}-weak`, { keyArgs: ['rsa:1024'] });
      await assertRefused(enrol('simpleenroll', weak.csrB64, auth), 400, 'KEY_POLICY_VIOLATION', rows);
      // Every refusal above released the secret: the corrected request succeeds once.
      assert.equal((await enrol('simpleenroll', good.csrB64, auth)).status, 200);
    });

    it('answers random and truncated CSR bodies with coded 4xx errors and stores nothing', async () => {
      const d = await provision();
      const c = await p.services.enrollTokens.create({ deviceId: d.id, createdBy: 'test' });
      const good = await makeCsr(dir, `${d.serial}-fuzz`);
      const der = readFileSync(join(dir, `${d.serial}-fuzz.csr.der`));
      const root = readFileSync(join(dir, 'root.pem'), 'utf8');
      const headers = { 'content-type': 'application/pkcs10', authorization: `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}` };
      const rows = await certificateRows();
      const codes = new Set<string>();
      for (let i = 0; i < 40; i++) {
        const body = i % 3 === 0 ? der.subarray(0, Math.floor((i / 40) * der.length))
          : i % 3 === 1 ? Buffer.from(der.map((b, j) => (j === (i * 7) % der.length ? b ^ 0xff : b)))
          : Buffer.from(Array.from({ length: 1 + ((i * 37) % 400) }, () => Math.floor(Math.random() * 256)));
        const r = await httpsPost(`${base}${EST}/simpleenroll`, root, body.toString('base64'), headers);
        assert.ok(r.status >= 400 && r.status < 500 && r.code !== undefined, `body ${i}: ${r.status} ${r.code}`);
        codes.add(r.code);
      }
      assert.ok([...codes].every((x) => ['CSR_INVALID', 'KEY_POLICY_VIOLATION'].includes(x)), [...codes].join());
      assert.equal(await certificateRows(), rows);
      // The secret was released after every refusal and still enrols once.
      assert.equal((await enrol('simpleenroll', good.csrB64, ['-u', `${c.username}:${c.password}`])).status, 200);
    });

    it('refuses a key already certified for another device, and a revoked IDevID', async () => {
      const a = await provision();
      const b = await provision();
      const ka = await makeCsr(dir, `${a.serial}-ld`);
      assert.equal((await enrol('simpleenroll', ka.csrB64, ['--cert', a.idevidCert, '--key', a.idevidKey])).status, 200);
      const rows = await certificateRows();
      // Device B asks for device A's key (B knows the key here; the check is on the public key).
      await assertRefused(enrol('simpleenroll', ka.csrB64, ['--cert', b.idevidCert, '--key', b.idevidKey]), 409, 'KEY_REUSED', rows);
      const idevid = await p.services.certificates.currentForDevice(b.id, 'idevid');
      await p.services.revocation.revoke(idevid!.serial, 'keyCompromise', 'test');
      const kb = await makeCsr(dir, `${b.serial}-ld`);
      await assertRefused(enrol('simpleenroll', kb.csrB64, ['--cert', b.idevidCert, '--key', b.idevidKey]), 403, 'CERT_REVOKED', rows);
      const refusals = await p.services.db.selectFrom('audit_entry').select('details').where('action', '=', 'pki.est.refused').execute();
      assert.ok(refusals.some((e) => e.details.includes('"KEY_REUSED"')) && refusals.some((e) => e.details.includes('"CERT_REVOKED"')));
    });
  });
}

describe('EST simplereenroll with an expired LDevID (platform clock moved past notAfter)', () => {
  let t: TestDatabase;
  let p: Platform;
  let dir: string;
  const clock = new ManualClock(Date.now());
  before(async () => {
    t = await createTestDatabase('sqlite');
    dir = mkdtempSync(join(tmpdir(), 'medtrust-est-expiry-'));
    p = await Platform.open({ clock, config: loadConfig({ MEDTRUST_DATA_DIR: t.dataDir, MEDTRUST_HTTP_PORT: '0', MEDTRUST_HTTPS_PORT: '0', MEDTRUST_MQTT_PORT: '0', MEDTRUST_LOG_LEVEL: 'silent', MEDTRUST_LDEVID_VALIDITY_DAYS: '1' }) });
    const base = (await p.start()).httpsUrl.replace('127.0.0.1', 'localhost');
    writeFileSync(join(dir, 'root.pem'), (await p.services.cas.get('root')).certificatePem);
    writeFileSync(join(dir, 'url'), base);
  });
  after(async () => {
    await p?.stop();
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is CERT_EXPIRED (403) and issues nothing', async () => {
    const s = p.services;
    const base = readFileSync(join(dir, 'url'), 'utf8');
    const device = await s.devices.create({ serial: 'EXP0001', model: 'PumpX', hardwareRevision: 'A', tenantId: await s.tenants.ensureOperator() }, 'test');
    const c = await s.enrollTokens.create({ deviceId: device.id, createdBy: 'test' });
    const first = await makeCsr(dir, 'exp', { subject: `/CN=${device.id}` });
    const r = await curl(dir, ['--cacert', 'root.pem', '-u', `${c.username}:${c.password}`, '-H', 'Content-Type: application/pkcs10', '--data-binary', `@${first.csrB64}`, `${base}${EST}/simpleenroll`]);
    assert.equal(r.status, 200, r.body.toString());
    const ldevid = await decodeCerts(dir, r.body, 'exp-ldevid');
    clock.advance(2 * 86_400_000);
    const rows = Number((await s.db.selectFrom('certificate').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
    const rr = await curl(dir, ['--cacert', 'root.pem', '--cert', ldevid.file, '--key', first.key, '-H', 'Content-Type: application/pkcs10', '--data-binary', `@${first.csrB64}`, `${base}${EST}/simplereenroll`]);
    assert.equal(rr.code, 'CERT_EXPIRED');
    assert.equal(rr.status, 403);
    assert.equal(Number((await s.db.selectFrom('certificate').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n), rows);
  });
});
