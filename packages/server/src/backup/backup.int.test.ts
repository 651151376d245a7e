import 'reflect-metadata';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as x509 from '@peculiar/x509';
import { verifyAuditLog } from '../audit/index.ts';
import { loadConfig } from '../config/index.ts';
import { createTestDatabase, TEST_DIALECTS, type TestDatabase } from '../db/testing.ts';
import { allMigrations } from '../migrations.ts';
import { Platform } from '../platform/index.ts';
import { createBackup, restoreBackup } from './backup-service.ts';

const PASS = 'correct horse battery staple';

function revokedSerials(der: Buffer): string[] {
  const crl = new x509.X509Crl(new Uint8Array(der));
  return (crl.entries ?? []).map((e) => e.serialNumber.toLowerCase().replace(/^0+/, '')).sort();
}

for (const dialect of TEST_DIALECTS) {
  describe(`backup and restore (${dialect})`, () => {
    let source: TestDatabase;
    let target: TestDatabase | undefined;
    let platform: Platform;
    let dir: string;
    let backupFile: string;
    let kept: string;
    let revoked: string;
    before(async () => {
      source = await createTestDatabase(dialect);
      dir = mkdtempSync(join(tmpdir(), 'medtrust-backup-'));
      platform = await Platform.open({ config: loadConfig({ MEDTRUST_DATA_DIR: source.dataDir, MEDTRUST_DATABASE_URL: source.url, MEDTRUST_LOG_LEVEL: 'silent' }) });
      const init = await platform.init();
      const s = platform.services;
      const devices = await s.provisioning.provision({ model: 'PumpX', hardwareRevision: 'A', serials: ['BK-1', 'BK-2'], tenantId: init.operatorTenantId, actor: 'test' });
      kept = devices[0]!.idevid.serial;
      revoked = devices[1]!.idevid.serial;
      await s.revocation.revoke(revoked, 'keyCompromise', 'test');
      backupFile = join(dir, 'snapshot.mtbk');
      // Taken while the platform is open and still writing.
      const writing = s.audit.append({ actor: 'test', action: 'test.during-backup' });
      await createBackup({ db: s.db, dialect, dataDir: source.dataDir, passphrase: PASS, outFile: backupFile });
      await writing;
    });
    after(async () => {
      await platform.stop();
      await source.close();
      await target?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('refuses a tampered backup, a wrong passphrase and a non-empty target', async () => {
      const good = readFileSync(backupFile);
      const tampered = Buffer.from(good);
      tampered[Math.floor(tampered.length / 2)]! ^= 0x01;
      await assert.rejects(restoreBackup({ backup: tampered, passphrase: PASS, dataDir: join(dir, 't1'), migrations: allMigrations }), { code: 'BACKUP_CORRUPT' });
      await assert.rejects(restoreBackup({ backup: good.subarray(0, good.length - 100), passphrase: PASS, dataDir: join(dir, 't2'), migrations: allMigrations }), { code: 'BACKUP_CORRUPT' });
      await assert.rejects(restoreBackup({ backup: good, passphrase: 'wrong passphrase!!', dataDir: join(dir, 't3'), migrations: allMigrations }), { code: 'BACKUP_CORRUPT' });
      await assert.rejects(restoreBackup({ backup: Buffer.from('hello'), passphrase: PASS, dataDir: join(dir, 't4'), migrations: allMigrations }), { code: 'BACKUP_FORMAT_UNSUPPORTED' });
      writeFileSync(join(dir, 'marker'), 'x');
      await assert.rejects(restoreBackup({ backup: good, passphrase: PASS, dataDir: dir, migrations: allMigrations }), { code: 'BACKUP_TARGET_NOT_EMPTY' });
    });

    it('rebuilds a data dir whose platform verifies its audit log, serves the same CRL and knows the same devices', async () => {
      target = await createTestDatabase(dialect);
      const restoredDir = join(dir, 'restored');
      const summary = await restoreBackup({ backup: readFileSync(backupFile), passphrase: PASS, dataDir: restoredDir, databaseUrl: target.url, migrations: allMigrations });
      assert.ok(summary.rows > 20 && summary.files > 5);
      const restored = await Platform.open({ config: loadConfig({ MEDTRUST_DATA_DIR: restoredDir, MEDTRUST_DATABASE_URL: target.url, MEDTRUST_LOG_LEVEL: 'silent' }) });
      try {
        const r = restored.services;
        const report = await verifyAuditLog({ db: r.db, trustedKeys: () => r.auditKeys.trusted() });
        assert.equal(report.ok, true, JSON.stringify(report));
        const before = await platform.services.crls.get('manufacturing');
        const after = await r.crls.get('manufacturing');
        assert.deepEqual(revokedSerials(after.der), revokedSerials(before.der));
        assert.ok(revokedSerials(after.der).includes(revoked.replace(/^0+/, '')));
        assert.ok(after.crlNumber >= before.crlNumber);
        const caBefore = await platform.services.cas.get('manufacturing');
        const caAfter = await r.cas.get('manufacturing');
        assert.deepEqual(caAfter.certificateDer, caBefore.certificateDer);
        assert.ok(await new x509.X509Crl(new Uint8Array(after.der)).verify({ publicKey: await new x509.X509Certificate(new Uint8Array(caAfter.certificateDer)).publicKey.export() }));
        assert.equal((await r.certificates.get(kept))?.status, 'valid');
        assert.equal((await r.certificates.get(revoked))?.status, 'revoked');
        assert.equal((await r.devices.getBySerial('BK-1', 'PumpX')).serial, 'BK-1');
        // The restored CA keys sign: the platform can keep issuing.
        const op = await r.cas.get('operational');
        assert.equal(op.key.sign(Buffer.from('x')).length > 0, true);
      } finally {
        await restored.stop();
      }
    });
  });
}
