import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '@medtrust/core';
import { TenantService } from '../access/index.ts';
import { DbAuditLog } from '../audit/index.ts';
import { migrateToLatest } from '../db/index.ts';
import { createTestDatabase, TEST_DIALECTS, type TestDatabase } from '../db/testing.ts';
import { allMigrations } from '../migrations.ts';
import { fixturePath, fixtureText } from './fixtures/load-fixture.ts';
import { readFeedPaths, renderFda524bMarkdown, validateCsaf, VulnError, VulnService } from './index.ts';

/** A small valid CycloneDX 1.6 firmware SBOM: openssl (apk purl + CPE), esp-idf on ESP32, curl by pkg:generic. */
function firmwareSbom(openssl: string): string {
  const c = (type: string, name: string, version: string | undefined, purl: string | undefined, cpe: string | undefined) => ({ type, name, 'bom-ref': `${name}@${version ?? ''}`, ...(version ? { version } : {}), ...(purl ? { purl } : {}), ...(cpe ? { cpe } : {}), properties: [{ name: 'fda:supportLevel', value: 'supported' }, { name: 'fda:endOfSupport', value: '2020-01-01' }] });
  const up = openssl.replace(/-r\d+$/, '');
  return JSON.stringify({
    bomFormat: 'CycloneDX', specVersion: '1.6', version: 1,
    components: [
      c('library', 'openssl', openssl, `pkg:apk/alpine/openssl@${openssl}`, `cpe:2.3:a:openssl:openssl:${up}:*:*:*:*:*:*:*`),
      c('framework', 'esp-idf', '4.1', undefined, 'cpe:2.3:a:espressif:esp-idf:4.1:*:*:*:*:*:*:*'),
      c('device', 'ESP32', undefined, undefined, 'cpe:2.3:h:espressif:esp32:-:*:*:*:*:*:*:*'),
      c('library', 'curl', '7.55.0', 'pkg:generic/curl@7.55.0', undefined),
    ],
  });
}

const FEEDS = ['nvd', 'nvd-api', 'osv', 'oss-fuzz', 'kev/kev-subset.json', 'epss'].map(fixturePath);

for (const dialect of TEST_DIALECTS) {
  describe(`VulnService (${dialect})`, () => {
    let t: TestDatabase;
    let vulns: VulnService;
    const clock = new ManualClock(Date.parse('2026-11-23T00:00:00Z'));
    let hospitalA = '';
    let siteA1 = '';
    let hospitalB = '';
    before(async () => {
      t = await createTestDatabase(dialect);
      await migrateToLatest(t.db, dialect, allMigrations);
      const tenants = new TenantService({ db: t.db, clock });
      await tenants.ensureOperator();
      hospitalA = await tenants.create({ kind: 'customer', name: 'A' });
      siteA1 = await tenants.create({ kind: 'site', name: 'A1', parentId: hospitalA });
      hospitalB = await tenants.create({ kind: 'customer', name: 'B' });
      const dev = (id: string, tenant: string, site: string | null, fw: string) => ({ id, serial: id, model: 'PUMP-X', hardware_revision: 'r1', tenant_id: tenant, site_id: site, state: 'active' as const, firmware_version: fw, batch_id: null, created_at: 0, updated_at: 0 });
      await t.db.insertInto('device').values([dev('dev-a', hospitalA, siteA1, '1.0'), dev('dev-b', hospitalB, null, '2.0')]).execute();
      vulns = new VulnService({ db: t.db, audit: new DbAuditLog({ db: t.db, dialect, clock }), clock });
    });
    after(() => t.close());

    it('matches an SBOM imported before the feeds (incremental) like one imported after (full)', async () => {
      const before1 = await vulns.importSbom({ model: 'PUMP-X', firmwareVersion: '1.0', text: firmwareSbom('1.0.1f-r0'), actor: 'test' });
      assert.equal(before1.components, 4);
      assert.equal(before1.matches, 0);
      const report = await vulns.importFeed(readFeedPaths(FEEDS), 'test');
      assert.equal(report.advisories.rejected, 0);
      assert.equal(report.advisories.imported, 13, JSON.stringify(report.advisories));
      assert.equal(report.kev, 2);
      assert.equal(report.epss, 46);
      assert.equal(report.rematch.firmwares, 1);
      await vulns.importSbom({ model: 'PUMP-X', firmwareVersion: '1.0-copy', text: firmwareSbom('1.0.1f-r0'), actor: 'test' });
      const a = await vulns.firmwareVulnerabilities({ model: 'PUMP-X', firmwareVersion: '1.0' });
      const b = await vulns.firmwareVulnerabilities({ model: 'PUMP-X', firmwareVersion: '1.0-copy' });
      assert.deepEqual(a.map((v) => [v.vulnId, v.status, v.advisories.sort()]), b.map((v) => [v.vulnId, v.status, v.advisories.sort()]));
      const byId = new Map(a.map((v) => [v.vulnId, v]));
      assert.equal(byId.get('CVE-2014-0160')?.status, 'affected');
      assert.equal(byId.get('CVE-2014-0160')?.kev, true);
      assert.equal(byId.get('CVE-2014-0160')?.epss, 0.99999);
      // OSV (Alpine range) and NVD (CPE) records of one CVE merge into one vulnerability.
      assert.deepEqual(byId.get('CVE-2016-2105')?.advisories.length, 2);
      assert.equal(byId.get('CVE-2020-13595')?.status, 'affected');
      assert.equal(byId.get('OSV-2017-1')?.status, 'unknown');
    });

    it('skips unchanged records on re-import (incremental by modified date)', async () => {
      const again = await vulns.importFeed(readFeedPaths(FEEDS), 'test');
      assert.equal(again.advisories.imported, 0);
      assert.equal(again.advisories.unchanged, 13);
      assert.equal(again.rematch.firmwares, 0);
    });

    it('refuses an invalid SBOM and keeps the stored one intact', async () => {
      const broken = JSON.parse(firmwareSbom('1.0.1g-r0'));
      delete broken.components[0].name;
      await assert.rejects(vulns.importSbom({ model: 'PUMP-X', firmwareVersion: '1.0', text: JSON.stringify(broken), actor: 'test' }), (e) => e instanceof VulnError && e.code === 'SBOM_INVALID');
      const still = await vulns.firmwareVulnerabilities({ model: 'PUMP-X', firmwareVersion: '1.0' });
      assert.ok(still.some((v) => v.vulnId === 'CVE-2014-0160'));
      const exported = JSON.parse(await vulns.exportSbom({ model: 'PUMP-X', firmwareVersion: '1.0' }));
      assert.equal(exported.specVersion, '1.6');
      assert.equal(exported.components.length, 4);
      await assert.rejects(vulns.exportSbom({ model: 'PUMP-X', firmwareVersion: '9.9' }), (e) => e instanceof VulnError && e.code === 'SBOM_NOT_FOUND');
    });

    it('gives a device its exposure and an explained risk, only inside its tenant', async () => {
      await vulns.setModelProfile('PUMP-X', { criticality: 'life-sustaining', exposure: 'hospital-network' }, 'test');
      const e = await vulns.deviceExposure('dev-a', { kind: 'tenant', tenantId: hospitalA });
      assert.equal(e.firmwareVersion, '1.0');
      assert.ok(e.risk.score > 50, String(e.risk.score));
      assert.ok(e.risk.explanation.some((l) => l.includes('CISA KEV')));
      assert.ok(e.risk.explanation.some((l) => l.includes('4 components past end of support')));
      const site = await vulns.deviceExposure('dev-a', { kind: 'site', siteId: siteA1 });
      assert.equal(site.deviceId, 'dev-a');
      // Naughty: hospital B asks for hospital A's device.
      await assert.rejects(vulns.deviceExposure('dev-a', { kind: 'tenant', tenantId: hospitalB }), (err) => err instanceof VulnError && err.code === 'VULN_DEVICE_NOT_FOUND');
      const fleetB = await vulns.fleetSummary({ kind: 'tenant', tenantId: hospitalB });
      assert.deepEqual(fleetB.map((f) => f.firmwareVersion), ['2.0']);
      await assert.rejects(vulns.setModelProfile('PUMP-X', { criticality: 'very', exposure: 'internet' }, 'test'), (err) => err instanceof VulnError && err.code === 'MODEL_PROFILE_INVALID');
    });

    it('follows a device onto new firmware', async () => {
      await vulns.importSbom({ model: 'PUMP-X', firmwareVersion: '2.0', text: firmwareSbom('1.0.2h-r0'), actor: 'test' });
      await t.db.updateTable('device').set({ firmware_version: '2.0' }).where('id', '=', 'dev-a').execute();
      const e = await vulns.deviceExposure('dev-a', { kind: 'all' });
      assert.ok(!e.vulnerabilities.some((v) => v.vulnId === 'CVE-2014-0160'));
      assert.ok(!e.vulnerabilities.some((v) => v.vulnId === 'CVE-2016-2105' && v.status === 'affected'));
      assert.ok(e.vulnerabilities.some((v) => v.vulnId === 'CVE-2020-13595'));
    });

    it('creates a CSAF 2.0 advisory that passes strict validation, with the fix and the tenants to notify', async () => {
      await t.db.updateTable('device').set({ firmware_version: '1.0' }).where('id', '=', 'dev-b').execute();
      const r = await vulns.vex.createAdvisory('CVE-2014-0160', 'test');
      assert.deepEqual(await validateCsaf(r.csaf), []);
      const st = new Map(r.standings.map((s) => [s.firmwareVersion, s]));
      assert.equal(st.get('1.0')?.status, 'known_affected');
      assert.equal(st.get('1.0')?.fixedBy, '2.0');
      assert.equal(st.get('2.0')?.status, 'fixed');
      assert.deepEqual(r.affectedTenants, [hospitalB]);
      const doc = r.csaf as { document: { category: string; notes: Array<{ title: string }> }; vulnerabilities: Array<{ remediations: Array<{ category: string }>; scores: unknown[] }> };
      assert.equal(doc.document.category, 'csaf_security_advisory');
      assert.ok(doc.document.notes.some((n) => n.title === 'Recommended actions for patients'));
      assert.ok(doc.vulnerabilities[0]?.remediations.some((x) => x.category === 'vendor_fix'));
      assert.equal(doc.vulnerabilities[0]?.scores.length, 1);
      await assert.rejects(vulns.vex.createAdvisory('CVE-1999-0001', 'test'), (e) => e instanceof VulnError && e.code === 'VULN_NOT_FOUND');
    });

    it('notifies only the tenants with an affected device, each with its own firmwares, once per advisory', async () => {
      const heard: string[] = [];
      vulns.notices.onNotice(async (n) => void heard.push(`${n.tenantId}:${n.vulnId}`));
      const r = await vulns.vex.createAdvisory('CVE-2014-0160', 'analyst');
      assert.deepEqual(r.notices.map((n) => n.tenantId), [hospitalB]);
      assert.deepEqual(heard, [`${hospitalB}:CVE-2014-0160`]);
      const [n] = r.notices;
      assert.deepEqual(n?.firmwares, [{ model: 'PUMP-X', firmwareVersion: '1.0', fixedBy: '2.0', devices: 1 }]);
      assert.equal(n?.affectedDevices, 1);
      assert.deepEqual(await vulns.notices.list({ kind: 'tenant', tenantId: hospitalA }), []);
      assert.deepEqual(await vulns.notices.list({ kind: 'site', siteId: siteA1 }), []);
      const mine = await vulns.notices.list({ kind: 'tenant', tenantId: hospitalB }, { unacknowledged: true });
      assert.deepEqual(mine.map((x) => x.id), [n?.id]);
      const full = await vulns.notices.get({ kind: 'tenant', tenantId: hospitalB }, n.id);
      assert.deepEqual(await validateCsaf(full.csaf), []);
      // Naughty: hospital A reads or acknowledges hospital B's notice.
      await assert.rejects(vulns.notices.get({ kind: 'tenant', tenantId: hospitalA }, n.id), (e) => e instanceof VulnError && e.code === 'ADVISORY_NOTICE_NOT_FOUND');
      await assert.rejects(vulns.notices.acknowledge({ kind: 'tenant', tenantId: hospitalA }, n.id, 'user:a'), (e) => e instanceof VulnError && e.code === 'ADVISORY_NOTICE_NOT_FOUND');
      await assert.rejects(vulns.notices.acknowledge({ kind: 'tenant', tenantId: hospitalB }, 'ntc_missing', 'user:b'), (e) => e instanceof VulnError && e.code === 'ADVISORY_NOTICE_NOT_FOUND');
      assert.equal((await vulns.notices.get({ kind: 'all' }, n.id)).acknowledgedAt, null);
      const ack = await vulns.notices.acknowledge({ kind: 'tenant', tenantId: hospitalB }, n.id, 'user:b');
      assert.equal(ack.acknowledgedBy, 'user:b');
      assert.equal((await vulns.notices.acknowledge({ kind: 'tenant', tenantId: hospitalB }, n.id, 'user:b2')).acknowledgedBy, 'user:b', 'acknowledging twice keeps the first');
      assert.deepEqual(await vulns.notices.list({ kind: 'tenant', tenantId: hospitalB }, { unacknowledged: true }), []);
      // Re-issued the same day: the same notice, refreshed, asking again.
      const again = await vulns.vex.createAdvisory('CVE-2014-0160', 'analyst');
      assert.equal(again.notices[0]?.id, n?.id);
      assert.equal(again.notices[0]?.acknowledgedAt, null);
      assert.equal((await vulns.notices.list({ kind: 'all' })).length, 1);
      // Three issues of the advisory (the test before this one made the first), one acknowledgement.
      const audit = await t.db.selectFrom('audit_entry').select(['action', 'tenant_id']).where('action', 'in', ['advisory.notify', 'advisory.acknowledge']).execute();
      assert.deepEqual(audit.map((a) => a.action).sort(), ['advisory.acknowledge', 'advisory.notify', 'advisory.notify', 'advisory.notify']);
      assert.ok(audit.every((a) => a.tenant_id === hospitalB));
    });

    it('sums exposure per site within the caller\'s scope', async () => {
      const all = await vulns.siteSummary({ kind: 'all' });
      const a1 = all.find((s) => s.siteId === siteA1);
      assert.equal(a1?.siteName, 'A1');
      assert.equal(a1?.devices, 1);
      const unplaced = all.find((s) => s.siteId === null);
      assert.deepEqual(unplaced && { devices: unplaced.devices, affected: unplaced.affected, kev: unplaced.kev }, { devices: 1, affected: 1, kev: 1 });
      assert.deepEqual((await vulns.siteSummary({ kind: 'tenant', tenantId: hospitalA })).map((s) => s.siteId), [siteA1]);
      assert.deepEqual((await vulns.siteSummary({ kind: 'site', siteId: siteA1 })).map((s) => s.devices), [1]);
    });

    it('leaves vulnerabilities analysed not_affected or fixed out of the risk score (VEX)', async () => {
      const before = await vulns.deviceExposure('dev-a', { kind: 'all' });
      assert.ok(before.risk.vulns.some((v) => v.vulnId === 'CVE-2020-13595'));
      await vulns.vex.record({ model: 'PUMP-X', firmwareVersion: '2.0', vulnId: 'CVE-2020-13595', status: 'not_affected', justification: 'vulnerable_code_not_in_execute_path' }, 'test');
      const after = await vulns.deviceExposure('dev-a', { kind: 'all' });
      assert.ok(!after.risk.vulns.some((v) => v.vulnId === 'CVE-2020-13595'));
      assert.ok(after.risk.score < before.risk.score);
      await assert.rejects(vulns.vex.record({ model: 'PUMP-X', firmwareVersion: '2.0', vulnId: 'CVE-2020-13595', status: 'gone' }, 'test'), (e) => e instanceof VulnError && e.code === 'VEX_INVALID');
    });

    it('produces the FDA 524B report: SBOMs, status, disclosure to patch times, devices past end of support', async () => {
      await vulns.setModelProfile('PUMP-X', { criticality: 'therapy', exposure: 'segmented', endOfSupportAtMs: Date.parse('2026-01-01T00:00:00Z') }, 'test');
      const r = await vulns.fda524bReport();
      assert.ok(r.firmwares.some((f) => f.firmwareVersion === '2.0' && f.components.every((c) => c.supportLevel === 'supported')));
      const heartbleed = r.vulnerabilities.find((v) => v.vulnId === 'CVE-2014-0160' && v.firmwareVersion === '1.0');
      assert.equal(heartbleed?.status, 'affected');
      assert.equal(heartbleed?.kev, true);
      assert.equal(heartbleed?.disclosedAt, '2014-04-07T22:55:03.893Z');
      assert.ok((heartbleed?.daysToPatch ?? 0) > 4000);
      assert.equal(heartbleed?.deployedAt, null, 'dev-b still runs 1.0');
      assert.ok(r.medians.daysToPatch !== null);
      assert.deepEqual(r.devicesPastEndOfSupport.map((d) => d.deviceId).sort(), ['dev-a', 'dev-b']);
      const md = renderFda524bMarkdown(r);
      assert.match(md, /## Known vulnerabilities/);
      assert.match(md, /\| CVE-2014-0160 \| PUMP-X 1\.0 \| affected/);
    });

    it('reads the real medical device SBOM: FreeRTOS CPE part mismatch surfaces as unknown', async () => {
      const r = await vulns.importSbom({ model: 'MONITOR-Y', firmwareVersion: '1.0', text: fixtureText('sbom/medical-device-case-study_extended.cdx.json'), actor: 'test' });
      assert.equal(r.components, 65);
      const v = await vulns.firmwareVulnerabilities({ model: 'MONITOR-Y', firmwareVersion: '1.0' });
      assert.equal(v.find((x) => x.vulnId === 'CVE-2018-16525')?.status, 'unknown');
    });
  });
}
