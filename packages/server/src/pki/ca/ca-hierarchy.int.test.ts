import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '@medtrust/core';
import { DbAuditLog } from '../../audit/index.ts';
import { TEST_DIALECTS } from '../../db/testing.ts';
import { daysMs, Validity } from '../profiles/certificate-profiles.ts';
import { checkCertificate } from '../testing/independent-checks.ts';
import { createPkiTestStack, type PkiTestStack, TEST_PUBLIC_URL } from '../testing/pki-test-stack.ts';
import { CaHierarchy } from './ca-hierarchy.ts';

for (const dialect of TEST_DIALECTS) {
  describe(`CaHierarchy (${dialect})`, () => {
    let s: PkiTestStack;
    let clock: ManualClock;
    before(async () => {
      clock = new ManualClock(Date.UTC(2026, 10, 23));
      s = await createPkiTestStack(dialect, { clock });
    });
    after(() => s.close());

    it('answers CA_UNKNOWN for a name that is no CA or has no signer', async () => {
      await assert.rejects(s.cas.get('nope' as never), { code: 'CA_UNKNOWN' });
      await assert.rejects(s.cas.ocspSigner('root'), { code: 'CA_UNKNOWN' });
    });

    it('refuses malformed certificates in findIssuer with CERT_INVALID and ignores foreign ones', async () => {
      await assert.rejects(s.cas.findIssuer(Buffer.from('3003020101', 'hex')), { code: 'CERT_INVALID' });
      await assert.rejects(s.cas.findIssuer(Buffer.alloc(0)), { code: 'CERT_INVALID' });
      const root = await s.cas.get('root');
      assert.equal((await s.cas.findIssuer(root.certificateDer))?.name, 'root');
    });

    it('re-issues an OCSP signer that is within 30 days of expiry, and only that', async () => {
      const before = await s.cas.ocspSigner('operational');
      clock.advance(daysMs(Validity.ocspSignerDays - Validity.ocspSignerRenewBeforeDays + 1));
      const summary = await s.cas.init();
      assert.deepEqual(summary.filter((c) => c.created).map((c) => c.name).sort(), ['ocsp-signer:infrastructure', 'ocsp-signer:manufacturing', 'ocsp-signer:operational']);
      const after = await s.cas.ocspSigner('operational');
      assert.notDeepEqual(after.certificateDer, before.certificateDer);
      assert.notEqual(after.key.ref, before.key.ref);
      await checkCertificate(after.certificateDer, (await s.cas.get('operational')).certificateDer);
      // The old signer certificate stays in `certificate` (it may still be cached by clients).
      const signers = await s.t.db.selectFrom('certificate').select('serial').where('profile', '=', 'ocsp-signer').where('ca_name', '=', 'operational').execute();
      assert.equal(signers.length, 2);
      assert.equal((await s.cas.init()).filter((c) => c.created).length, 0);
    });

    it('lets two processes initialise one database at once and keeps one hierarchy', async () => {
      const t = await createPkiTestStack(dialect);
      try {
        // createPkiTestStack initialised once; a second and third hierarchy race a fresh table set.
        await t.t.db.deleteFrom('certificate').execute();
        await t.t.db.deleteFrom('ca').execute();
        const mk = (): CaHierarchy => new CaHierarchy({ db: t.t.db, keyStore: t.keyStore, audit: new DbAuditLog({ db: t.t.db, dialect }), publicUrl: TEST_PUBLIC_URL });
        await assert.rejects(mk().get('operational'), { code: 'CA_NOT_INITIALISED' });
        await assert.rejects(mk().ocspSigner('operational'), { code: 'CA_NOT_INITIALISED' });
        const [a, b] = await Promise.all([mk().init(), mk().init()]);
        assert.deepEqual(a.map((c) => c.sha256Fingerprint), b.map((c) => c.sha256Fingerprint));
        const rows = await t.t.db.selectFrom('ca').select('name').execute();
        assert.equal(rows.length, 7);
        const mfg = await mk().get('manufacturing');
        await checkCertificate(mfg.certificateDer, (await mk().get('root')).certificateDer);
      } finally {
        await t.close();
      }
    });
  });
}
