import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TEST_DIALECTS } from '../../db/testing.ts';
import { PresenceService } from '../../telemetry/index.ts';
import { createPolicyTestStack, type PolicyTestStack } from '../testing/policy-test-stack.ts';
import { AnomalyService } from './anomaly-service.ts';

const MIN = 60_000;

for (const dialect of TEST_DIALECTS) {
  describe(`AnomalyService (${dialect})`, () => {
    let s: PolicyTestStack;
    let anomalies: AnomalyService;
    let hospital = '';
    before(async () => {
      // 14:00 UTC: inside the usual command hours built below.
      s = await createPolicyTestStack(dialect, Date.parse('2026-11-23T14:00:00Z'));
      hospital = await s.tenants.create({ kind: 'customer', name: 'H' });
      for (const event of ['auth-failure-burst', 'cloned-certificate', 'message-rate-anomaly', 'unusual-command-time'] as const) {
        await s.alertRules.create(hospital, { name: event, priority: 'high', enabled: true, scope: {}, condition: { kind: 'security', event }, escalateAfterMs: 60_000, escalationRoles: ['hospital-admin'] }, 'test');
      }
      anomalies = new AnomalyService({ db: s.pki.t.db, decisions: s.decisions, audit: s.pki.audit, alerts: s.alerts, clock: s.clock, operatorTenantId: async () => s.pki.operatorTenantId });
    });
    after(() => s.close());

    it('raises nothing on a quiet fleet', async () => {
      await s.device({ model: 'PumpX', tenantId: hospital, firmwareVersion: '1.0.0' });
      assert.equal(await anomalies.runOnce(), 0);
    });

    it('raises an auth-failure burst from the gateway\'s audited refusals, once', async () => {
      const d = await s.device({ model: 'PumpX', tenantId: hospital, firmwareVersion: '1.0.0' });
      for (let i = 0; i < 12; i++) {
        await s.pki.audit.append({ actor: `device:${d.id}`, action: 'gateway.connect', target: `device:${d.id}`, tenantId: hospital, outcome: 'denied', details: { code: 'CLIENT_ID_MISMATCH', transport: 'mqtt', remoteAddress: '198.51.100.4' } });
        s.clock.advance(5_000);
      }
      assert.equal(await anomalies.runOnce(), 2, 'one burst by device, one by address');
      assert.equal((await s.alerts.list(hospital, { deviceId: d.id })).length, 1);
      assert.equal(await anomalies.runOnce(), 0, 'the same burst is not raised again');
      const ds = await s.decisions.list(null, { policyId: 'anomaly:auth-failure-burst' });
      assert.deepEqual(ds.map((x) => x.actions[0]?.outcome).sort(), ['done', 'done']);
    });

    it('raises cloned-certificate for one serial connected from two addresses at once', async () => {
      s.clock.advance(20 * MIN);
      const d = await s.device({ model: 'MonitorY', tenantId: hospital, firmwareVersion: '1.0.0' });
      const cert = await s.pki.certificates.currentForDevice(d.id, 'ldevid');
      assert.ok(cert);
      const presence = new PresenceService({ db: s.pki.t.db, clock: s.clock, node: 'node-test' });
      const a = await presence.connected({ deviceId: d.id, tenantId: hospital, transport: 'mqtt', certSerial: cert.serial, remoteAddress: '10.1.2.3' });
      s.clock.advance(1000);
      await presence.connected({ deviceId: d.id, tenantId: hospital, transport: 'mqtt', certSerial: cert.serial, remoteAddress: '203.0.113.77' });
      assert.equal(await anomalies.runOnce(), 1);
      const [alert] = await s.alerts.list(hospital, { deviceId: d.id });
      assert.equal(alert?.state, 'raised');
      await presence.disconnected(a, d.id, 'client-closed');
      assert.equal(await anomalies.runOnce(), 0);
    });

    it('raises message-rate-anomaly for a device far above its model baseline', async () => {
      const fleet = [];
      for (let i = 0; i < 4; i++) fleet.push(await s.device({ model: 'GlucoZ', tenantId: hospital, firmwareVersion: '1.0.0' }));
      const noisy = fleet[0]!;
      const now = s.clock.nowMs();
      const rows = [];
      // 3 hours of history: 10 messages per device per 5 minutes; then the noisy one sends 300.
      for (const d of fleet) for (let b = 1; b <= 36; b++) for (let k = 0; k < 10; k++) rows.push({ d, at: now - 5 * MIN - b * 5 * MIN + k * 1000 });
      for (let k = 0; k < 300; k++) rows.push({ d: noisy, at: now - 4 * MIN + k * 100 });
      for (let k = 0; k < 10; k++) rows.push({ d: fleet[1]!, at: now - 4 * MIN + k * 1000 });
      for (let i = 0; i < rows.length; i += 500) {
        await s.pki.t.db.insertInto('telemetry_message').values(rows.slice(i, i + 500).map((r, j) => ({ device_id: r.d.id, message_id: `m${i + j}`, tenant_id: hospital, kind: 'health' as const, device_ts: r.at, received_at: r.at, transport: 'mqtt', payload: '{}' }))).execute();
      }
      assert.equal(await anomalies.runOnce(), 1);
      const ds = await s.decisions.list(null, { policyId: 'anomaly:message-rate-anomaly' });
      assert.deepEqual(ds.map((x) => [x.deviceId, x.facts.messages, x.facts.baseline]), [[noisy.id, 300, 10]]);
    });

    it('raises unusual-command-time for a 03:00 command in a daytime hospital', async () => {
      const d = await s.device({ model: 'PumpX', tenantId: hospital, firmwareVersion: '1.0.0' });
      const cmd = (id: string, at: number) => ({ id, tenant_id: hospital, device_id: d.id, kind: 'infusion', request: '{}', care_area: null, requested_by: 'user:x', override_reason: null, confirm_rate_jump: 0, second_approver: null, status: 'acknowledged' as const, refusal_code: null, findings: '[]', drug_library_version: null, signed: null, nonce: null, issued_at: at, expires_at: null, acked_at: null, ack_detail: null, created_at: at });
      const history = Array.from({ length: 40 }, (_, i) => cmd(`h${i}`, Date.UTC(2026, 10, 1 + (i % 20), 9 + (i % 8))));
      await s.pki.t.db.insertInto('device_command').values(history).execute();
      // A daytime command now (about 15:00 UTC) is usual.
      await s.pki.t.db.insertInto('device_command').values(cmd('c-day', s.clock.nowMs())).execute();
      assert.equal(await anomalies.runOnce(), 0);
      s.clock.set(Date.parse('2026-11-24T03:00:00Z'));
      await s.pki.t.db.insertInto('device_command').values(cmd('c-night', s.clock.nowMs())).execute();
      const n = (await s.decisions.list(null)).length;
      assert.equal(await anomalies.runOnce(), 1, JSON.stringify((await s.decisions.list(null)).slice(0, (await s.decisions.list(null)).length - n)));
      const [dec] = await s.decisions.list(null, { policyId: 'anomaly:unusual-command-time' });
      assert.equal(dec?.facts.commandId, 'c-night');
    });
  });
}
