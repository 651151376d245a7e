import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '@medtrust/core';
import { TenantService } from '../../access/index.ts';
import { DbAuditLog } from '../../audit/index.ts';
import { migrateToLatest } from '../../db/index.ts';
import { createTestDatabase, TEST_DIALECTS, type TestDatabase } from '../../db/testing.ts';
import { LocalEventBus } from '../../events/index.ts';
import { allMigrations } from '../../migrations.ts';
import { AlertRuleStore } from './alert-rule-store.ts';
import { AlertService, type VitalObservation } from './alert-service.ts';
import { signWebhook, WebhookService } from './webhook-service.ts';

for (const dialect of TEST_DIALECTS) {
  describe(`alerts (${dialect})`, () => {
    let t: TestDatabase;
    let tenantId: string;
    let otherTenant: string;
    const clock = new ManualClock(Date.UTC(2026, 10, 23, 3, 0, 0));
    let rules: AlertRuleStore;
    let alerts: AlertService;
    let webhooks: WebhookService;
    const key = randomBytes(32);

    before(async () => {
      t = await createTestDatabase(dialect);
      await migrateToLatest(t.db, dialect, allMigrations);
      const tenants = new TenantService({ db: t.db, clock });
      await tenants.ensureOperator();
      tenantId = await tenants.create({ kind: 'customer', name: 'St Elsewhere' });
      otherTenant = await tenants.create({ kind: 'customer', name: 'County General' });
      const audit = new DbAuditLog({ db: t.db, dialect, clock });
      rules = new AlertRuleStore({ db: t.db, audit, clock, cacheMs: 0 });
      webhooks = new WebhookService({ db: t.db, audit, clock, secretKey: async () => key, maxAgeMs: 3_600_000 });
      alerts = new AlertService({ db: t.db, audit, events: new LocalEventBus(), rules, clock, notify: (a, c) => webhooks.enqueue(a, c) });
    });
    after(() => t.close());

    const vital = (metric: VitalObservation['metric'], value: number, atMs: number, patientId = 'pat_1'): VitalObservation =>
      ({ tenantId, deviceId: 'dev_1', patientId, careArea: 'ICU', metric, value, atMs, receivedAtMs: atMs + 50 });

    it('fires one alert through a flapping SpO2 signal and latches the high-priority alert', async () => {
      await rules.create(tenantId, { name: 'Desaturation', priority: 'high', enabled: true, scope: {}, condition: { kind: 'threshold', metric: 'spo2', op: '<', value: 90, forMs: 30_000, hysteresis: 2 }, escalateAfterMs: 60_000, escalationRoles: ['clinician', 'hospital-admin'] }, 'test');
      const t0 = clock.nowMs();
      for (let s = 0; s <= 300; s += 5) await alerts.onVital(vital('spo2', s < 40 ? 85 : s % 10 === 0 ? 89 : 91, t0 + s * 1000));
      let open = await alerts.list(tenantId, { state: 'open' });
      assert.equal(open.length, 1);
      assert.equal(open[0]!.priority, 'high');
      // Recovery past the hysteresis band for 30 s clears the condition; the alert latches.
      for (let s = 305; s <= 345; s += 5) await alerts.onVital(vital('spo2', 96, t0 + s * 1000));
      open = await alerts.list(tenantId, { state: 'open' });
      assert.equal(open.length, 1);
      assert.ok(open[0]!.conditionClearedAt);
      const acked = await alerts.acknowledge(tenantId, open[0]!.id, 'user:nurse');
      assert.equal(acked.state, 'resolved');
      assert.equal(acked.acknowledgedBy, 'user:nurse');
      assert.equal((await alerts.list(otherTenant)).length, 0, 'another tenant sees none of it');
    });

    it('escalates to the next role when nobody acknowledges in time, once', async () => {
      await rules.create(tenantId, { name: 'Occlusion', priority: 'high', enabled: true, scope: {}, condition: { kind: 'device-alarm', alarm: 'occlusion' }, escalateAfterMs: 60_000, escalationRoles: ['clinician', 'hospital-admin'] }, 'test');
      const now = clock.nowMs();
      await alerts.onDeviceAlarm({ tenantId, deviceId: 'dev_2', patientId: 'pat_2', alarm: 'occlusion', active: true, atMs: now, receivedAtMs: now });
      await alerts.onDeviceAlarm({ tenantId, deviceId: 'dev_2', patientId: 'pat_2', alarm: 'occlusion', active: true, atMs: now + 1000, receivedAtMs: now + 1000 });
      const [a] = await alerts.list(tenantId, { state: 'raised', deviceId: 'dev_2' });
      assert.equal(a!.repeatCount, 1);
      clock.advance(30_000);
      assert.equal(await alerts.escalateDue(), 0);
      clock.advance(31_000);
      assert.equal(await alerts.escalateDue(), 1);
      clock.advance(600_000);
      assert.equal(await alerts.escalateDue(), 0, 'no role past the last');
      assert.equal((await alerts.get(tenantId, a!.id)).escalationLevel, 1);
      await assert.rejects(alerts.acknowledge(otherTenant, a!.id, 'user:x'), { code: 'ALERT_NOT_FOUND' });
      await alerts.acknowledge(tenantId, a!.id, 'user:nurse');
      await assert.rejects(alerts.acknowledge(tenantId, a!.id, 'user:nurse'), { code: 'ALERT_STATE_INVALID' });
    });

    it('refuses an invalid rule with its problems', async () => {
      await assert.rejects(rules.create(tenantId, { name: '', priority: 'urgent', enabled: true, scope: {}, condition: { kind: 'threshold', metric: 'mood', op: '=', value: 1, forMs: -1, hysteresis: 0 }, escalateAfterMs: 1, escalationRoles: [] } as never, 'test'), { code: 'ALERT_RULE_INVALID' });
    });

    describe('when the webhook receiver is down for a while', () => {
      let server: Server | undefined;
      const received: Array<{ id: string; type: string }> = [];
      let secret = '';
      let port = 0;
      const listen = () => new Promise<void>((resolve) => {
        server = createServer((req, res) => {
          let body = '';
          req.on('data', (c: Buffer) => (body += c.toString()));
          req.on('end', () => {
            const sig = String(req.headers['medtrust-signature']);
            const ts = Number(/t=(\d+)/.exec(sig)?.[1]);
            assert.equal(sig, signWebhook(secret, body, ts));
            const msg = JSON.parse(body) as { id: string; type: string };
            if (!received.some((r) => r.id === msg.id)) received.push(msg);
            res.end('ok');
          });
        });
        server.listen(port, '127.0.0.1', () => {
          port = (server!.address() as AddressInfo).port;
          resolve();
        });
      });
      after(() => server?.close());

      it('delivers every change, signed, once it is back, and dead-letters what ages out', async () => {
        await listen();
        const url = `http://127.0.0.1:${port}/hook`;
        await new Promise<void>((r) => server!.close(() => r()));
        const ep = await webhooks.createEndpoint(tenantId, url, 'test');
        secret = ep.secret;
        const now = clock.nowMs();
        await alerts.onDeviceAlarm({ tenantId, deviceId: 'dev_3', patientId: null, alarm: 'occlusion', active: true, atMs: now, receivedAtMs: now });
        const [a] = await alerts.list(tenantId, { state: 'raised', deviceId: 'dev_3' });
        await alerts.acknowledge(tenantId, a!.id, 'user:nurse');
        assert.equal(await webhooks.deliverDue(), 0, 'receiver is down');
        for (let i = 0; i < 5; i++) {
          clock.advance(60_000);
          assert.equal(await webhooks.deliverDue(), 0);
        }
        assert.equal((await webhooks.deliveries(tenantId, 'pending')).length, 2);
        await listen();
        clock.advance(300_000);
        assert.equal(await webhooks.deliverDue(), 2);
        assert.deepEqual(received.map((r) => r.type), ['alert.raised', 'alert.acknowledged']);
        assert.equal(await webhooks.deliverDue(), 0, 'nothing sent twice');

        await new Promise<void>((r) => server!.close(() => r()));
        await alerts.resolve(tenantId, a!.id, 'user:nurse');
        await webhooks.deliverDue();
        clock.advance(3_600_001);
        await webhooks.deliverDue();
        const dead = await webhooks.deliveries(tenantId, 'dead');
        assert.equal(dead.length, 1);
        assert.equal((await webhooks.deliveries(otherTenant, 'dead')).length, 0);
        await listen();
        await webhooks.retry(tenantId, dead[0]!.id, 'test');
        assert.equal(await webhooks.deliverDue(), 1);
        assert.deepEqual(received.map((r) => r.type), ['alert.raised', 'alert.acknowledged', 'alert.resolved']);
      });

      it('refuses plain http to a remote host', async () => {
        await assert.rejects(webhooks.createEndpoint(tenantId, 'http://example.org/x', 'test'), { code: 'WEBHOOK_URL_INVALID' });
      });
    });
  });
}
