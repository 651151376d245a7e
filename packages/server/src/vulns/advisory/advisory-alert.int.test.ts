// The platform's wiring of advisory notices: a hospital with a device on an affected firmware gets
// a notice and, through its `security-advisory` alert rule, an alert; another hospital gets neither.
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../../db/testing.ts';
import { loadConfig, Platform } from '../../index.ts';
import { fixturePath, fixtureText } from '../fixtures/load-fixture.ts';
import { readFeedPaths } from '../index.ts';

describe('advisory notices raise security alerts in the platform', () => {
  let t: TestDatabase;
  let p: Platform;
  let hospitalA = '';
  let hospitalB = '';

  before(async () => {
    t = await createTestDatabase('sqlite');
    p = await Platform.open({ config: loadConfig({ MEDTRUST_DATA_DIR: t.dataDir, MEDTRUST_LOG_LEVEL: 'silent' }) });
    await p.init();
    const s = p.services;
    hospitalA = await s.tenants.create({ kind: 'customer', name: 'Affected Hospital' });
    hospitalB = await s.tenants.create({ kind: 'customer', name: 'Unaffected Hospital' });
    for (const tenantId of [hospitalA, hospitalB]) {
      await s.clinical.alertRules.create(tenantId, { name: 'Security advisory', priority: 'medium', enabled: true, scope: {}, condition: { kind: 'security', event: 'security-advisory' }, escalateAfterMs: 3_600_000, escalationRoles: ['hospital-admin'] }, 'test');
    }
    await s.devices.create({ serial: 'MON-A', model: 'MONITOR-Y', hardwareRevision: 'A', tenantId: hospitalA }, 'test');
    await s.db.updateTable('device').set({ firmware_version: '1.0' }).where('serial', '=', 'MON-A').execute();
    await s.vulns.importSbom({ model: 'MONITOR-Y', firmwareVersion: '1.0', text: fixtureText('sbom/medical-device-case-study_extended.cdx.json'), actor: 'test' });
    await s.vulns.importFeed(readFeedPaths([fixturePath('nvd/CVE-2018-16525.json')]), 'test');
    await s.vulns.vex.record({ model: 'MONITOR-Y', firmwareVersion: '1.0', vulnId: 'CVE-2018-16525', status: 'affected' }, 'test');
  });
  after(async () => {
    await p.stop();
    await t.close();
  });

  it('alerts the affected hospital once, with the notice in the alert details', async () => {
    const s = p.services;
    const r = await s.vulns.vex.createAdvisory('CVE-2018-16525', 'analyst');
    assert.deepEqual(r.notices.map((n) => n.tenantId), [hospitalA]);
    const alertsA = await s.clinical.alerts.list(hospitalA);
    assert.equal(alertsA.length, 1);
    assert.equal(alertsA[0]?.details.event, 'security-advisory');
    assert.equal(alertsA[0]?.details.noticeId, r.notices[0]?.id);
    assert.equal(alertsA[0]?.details.vulnId, 'CVE-2018-16525');
    assert.deepEqual(await s.clinical.alerts.list(hospitalB), []);
    // Re-issued while the alert is open: folded into it, not a second alert.
    await s.vulns.vex.createAdvisory('CVE-2018-16525', 'analyst');
    const again = await s.clinical.alerts.list(hospitalA);
    assert.equal(again.length, 1);
    assert.equal(again[0]?.repeatCount, 1);
  });
});
