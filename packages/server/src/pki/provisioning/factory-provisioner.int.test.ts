import 'reflect-metadata';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TEST_DIALECTS } from '../../db/testing.ts';
import { checkCertificate, opensslVerify } from '../testing/independent-checks.ts';
import { createPkiTestStack, type PkiTestStack } from '../testing/pki-test-stack.ts';
import { FactoryProvisioner } from './factory-provisioner.ts';

function opensslCsr(dir: string, name: string): Buffer {
  const out = join(dir, `${name}.der`);
  execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, `${name}.key`), '-subj', `/CN=${name}`, '-outform', 'DER', '-out', out], { stdio: 'pipe' });
  return readFileSync(out);
}

for (const dialect of TEST_DIALECTS) {
  describe(`FactoryProvisioner (${dialect})`, () => {
    let s: PkiTestStack;
    let p: FactoryProvisioner;
    let dir: string;
    before(async () => {
      s = await createPkiTestStack(dialect);
      p = new FactoryProvisioner({ db: s.t.db, devices: s.devices, issuer: s.issuer, audit: s.audit, clock: s.clock });
      dir = mkdtempSync(join(tmpdir(), 'medtrust-prov-'));
    });
    after(async () => {
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('provisions devices with generated keys: manufactured, IDevID matching the key, batch record, audit', async () => {
      const serials = ['GK-000001', 'GK-000002', 'GK-000003'];
      const progress: number[] = [];
      const out = await p.provision({ model: 'GlucoMon', hardwareRevision: 'C', serials, tenantId: s.operatorTenantId, actor: 'factory-op', onProgress: (d) => progress.push(d) });
      assert.deepEqual(out.map((d) => d.serial), serials);
      assert.deepEqual(progress.at(-1), 3);
      const mfg = await s.cas.get('manufacturing');
      const root = await s.cas.get('root');
      for (const d of out) {
        assert.equal(d.state, 'manufactured');
        assert.ok(d.privateKeyPem?.startsWith('-----BEGIN PRIVATE KEY-----'));
        await checkCertificate(d.idevid.der, mfg.certificateDer);
        assert.equal(opensslVerify(root.certificateDer, [mfg.certificateDer], d.idevid.der)[0], 0);
        const fromCert = execFileSync('openssl', ['x509', '-inform', 'DER', '-noout', '-pubkey'], { input: d.idevid.der, encoding: 'utf8' });
        const fromKey = execFileSync('openssl', ['pkey', '-pubout'], { input: d.privateKeyPem, encoding: 'utf8' });
        assert.equal(fromCert, fromKey);
        assert.equal((await s.certificates.currentForDevice(d.id, 'idevid'))?.serial, d.idevid.serial);
      }
      const batch = await s.t.db.selectFrom('provisioning_batch').selectAll().where('id', '=', out[0]?.batchId as string).executeTakeFirstOrThrow();
      assert.deepEqual(JSON.parse(batch.serials), serials);
      assert.equal(batch.mode, 'generated-keys');
      assert.equal(batch.created_by, 'factory-op');
      const audit = await s.t.db.selectFrom('audit_entry').select(['action', 'outcome']).where('target', '=', `batch:${batch.id}`).execute();
      assert.deepEqual(audit, [{ action: 'factory.batch.provisioned', outcome: 'success' }]);
      assert.equal(await p.nextSequence('GlucoMon', 'GK-'), 4);
      assert.deepEqual((await s.devices.list({ batchId: batch.id })).map((d) => d.serial).sort(), serials);
      assert.equal((await s.devices.list({ model: 'GlucoMon', state: 'manufactured', limit: 2 })).length, 2);
    });

    it('issues for device CSRs (CSR mode)', async () => {
      const csrs = new Map([['CS-1', opensslCsr(dir, 'cs1')], ['CS-2', opensslCsr(dir, 'cs2')]]);
      const out = await p.provision({ model: 'GlucoMon', hardwareRevision: 'C', serials: ['CS-1', 'CS-2'], tenantId: s.operatorTenantId, actor: 'factory-op', csrs });
      assert.equal(out[0]?.privateKeyPem, undefined);
      const fromCert = execFileSync('openssl', ['x509', '-inform', 'DER', '-noout', '-pubkey'], { input: out[0]?.idevid.der, encoding: 'utf8' });
      assert.equal(fromCert, execFileSync('openssl', ['pkey', '-in', join(dir, 'cs1.key'), '-pubout'], { encoding: 'utf8' }));
    });

    describe('when a CSR in the batch is bad', () => {
      it('stores nothing: no device, no certificate, no batch', async () => {
        const count = async (table: 'device' | 'certificate' | 'provisioning_batch'): Promise<number> => Number((await s.t.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
        const before = [await count('device'), await count('certificate'), await count('provisioning_batch')];
        const good = opensslCsr(dir, 'b1');
        await assert.rejects(p.provision({ model: 'GlucoMon', hardwareRevision: 'C', serials: ['B-1', 'B-2'], tenantId: s.operatorTenantId, actor: 'x', csrs: new Map([['B-1', good], ['B-2', good.subarray(0, 50)]]) }), { code: 'CSR_INVALID' });
        // The same key for two devices of one batch: refused after the devices were created, then rolled back.
        await assert.rejects(p.provision({ model: 'GlucoMon', hardwareRevision: 'C', serials: ['B-3', 'B-4'], tenantId: s.operatorTenantId, actor: 'x', csrs: new Map([['B-3', good], ['B-4', good]]) }), { code: 'KEY_REUSED' });
        await assert.rejects(p.provision({ model: 'GlucoMon', hardwareRevision: 'C', serials: ['GK-000001'], tenantId: s.operatorTenantId, actor: 'x' }), { code: 'CONFLICT' });
        assert.deepEqual([await count('device'), await count('certificate'), await count('provisioning_batch')], before);
      });
    });
  });
}
