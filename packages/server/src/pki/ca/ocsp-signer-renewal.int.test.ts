import 'reflect-metadata';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '@medtrust/core';
import { DbAuditLog } from '../../audit/index.ts';
import { TEST_DIALECTS } from '../../db/testing.ts';
import { JobRunner } from '../../jobs/index.ts';
import { createLogger } from '../../logging/index.ts';
import { OcspResponder } from '../ocsp/index.ts';
import { daysMs, Validity } from '../profiles/certificate-profiles.ts';
import { parseOcspIndependently } from '../revocation/testing/independent-parsers.ts';
import { createRealIssuer } from '../revocation/testing/real-issuer.ts';
import { checkCertificate } from '../testing/independent-checks.ts';
import { createPkiTestStack, type PkiTestStack, TEST_PUBLIC_URL } from '../testing/pki-test-stack.ts';
import { CaHierarchy } from './ca-hierarchy.ts';
import { certificateFields } from './certificate-fields.ts';

for (const dialect of TEST_DIALECTS) {
  describe(`OCSP signer renewal job (${dialect})`, () => {
    let s: PkiTestStack;
    let clock: ManualClock;
    let dir: string;
    let requestDer: Buffer;
    const logger = createLogger({ level: 'silent' });

    before(async () => {
      clock = new ManualClock(Date.UTC(2026, 10, 23));
      s = await createPkiTestStack(dialect, { clock });
      dir = mkdtempSync(join(tmpdir(), 'medtrust-signer-renewal-'));
      const pki = await createRealIssuer(s);
      const leaf = await pki.issue({ ca: 'operational' });
      writeFileSync(join(dir, 'ca.pem'), pki.caPems.operational);
      writeFileSync(join(dir, 'leaf.pem'), leaf.pem);
      execFileSync('openssl', ['ocsp', '-issuer', join(dir, 'ca.pem'), '-cert', join(dir, 'leaf.pem'), '-no_nonce', '-reqout', join(dir, 'req.der')], { stdio: 'ignore' });
      requestDer = readFileSync(join(dir, 'req.der'));
    });
    after(async () => {
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    });

    const renewals = async (): Promise<Array<Record<string, unknown>>> =>
      (await s.t.db.selectFrom('audit_entry').select('details').where('action', '=', 'pki.ocsp-signer.issued').execute())
        .map((r) => JSON.parse(r.details) as Record<string, unknown>).filter((d) => d.renewal === true);

    it('renews each signer before expiry, once per cluster, audited; a responder on another node switches to it', async () => {
      // Node A runs the job; node B is another process on the same database with its own responder.
      const nodeA = new JobRunner({ db: s.t.db, clock, holder: 'node-a', logger });
      nodeA.add(s.cas.ocspSignerRenewalJob());
      const casB = new CaHierarchy({ db: s.t.db, keyStore: s.keyStore, audit: new DbAuditLog({ db: s.t.db, dialect, clock }), publicUrl: TEST_PUBLIC_URL, clock });
      const nodeB = new JobRunner({ db: s.t.db, clock, holder: 'node-b', logger });
      nodeB.add(casB.ocspSignerRenewalJob());
      const responderB = new OcspResponder({ db: s.t.db, cas: casB, events: s.events, clock, cacheSeconds: 0, signerRecheckMs: 0, logger });
      const before = await s.cas.ocspSigner('operational');
      const keyHashOf = async (): Promise<string> => {
        const p = parseOcspIndependently((await responderB.respond(requestDer)).der);
        assert.equal(p.signatureValid, true);
        assert.equal(p.singles[0]?.status, 'good');
        return p.certs[0]!.toString('hex');
      };
      assert.equal(await keyHashOf(), before.certificateDer.toString('hex'));

      // Far from expiry: the job runs and renews nothing.
      assert.equal(await nodeA.runOnce('pki.ocsp-signer-renewal'), true);
      assert.deepEqual(await renewals(), []);
      assert.deepEqual((await s.cas.ocspSigner('operational')).certificateDer, before.certificateDer);

      // A day inside the 30-day window: the next run renews all three signers.
      clock.advance(daysMs(Validity.ocspSignerDays - Validity.ocspSignerRenewBeforeDays + 1));
      assert.equal(await nodeA.runOnce('pki.ocsp-signer-renewal'), true);
      // Node B, same interval: the lease is node A's, so the job ran once in the cluster.
      assert.equal(await nodeB.runOnce('pki.ocsp-signer-renewal'), false);
      const audited = await renewals();
      assert.equal(audited.length, 3);
      const renewed = await s.cas.ocspSigner('operational');
      assert.notDeepEqual(renewed.certificateDer, before.certificateDer);
      assert.notEqual(renewed.key.ref, before.key.ref);
      await checkCertificate(renewed.certificateDer, (await s.cas.get('operational')).certificateDer);
      assert.ok(audited.some((d) => d.replacesSerial === certificateFields(before.certificateDer).serialHex && d.serial === certificateFields(renewed.certificateDer).serialHex), 'the audit entry names old and new signer');

      // Node B's responder re-reads the signers in the background; its answers move to the new one.
      let signer = await keyHashOf();
      for (let i = 0; i < 50 && signer !== renewed.certificateDer.toString('hex'); i++) {
        await new Promise((r) => setTimeout(r, 20));
        signer = await keyHashOf();
      }
      assert.equal(signer, renewed.certificateDer.toString('hex'));
      assert.deepEqual((await casB.ocspSigner('operational')).certificateDer, renewed.certificateDer);

      // Renewed signers are far from expiry again: a later run renews nothing more.
      clock.advance(daysMs(2));
      assert.equal(await nodeA.runOnce('pki.ocsp-signer-renewal'), true);
      assert.equal((await renewals()).length, 3);
    });
  });
}

