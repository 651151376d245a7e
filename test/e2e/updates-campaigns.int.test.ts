import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock, MedTrustError, newId } from '@medtrust/core';
import { DbAuditLog } from '../../packages/server/src/audit/index.ts';
import { TEST_DIALECTS } from '../../packages/server/src/db/testing.ts';
import { CampaignService, OPEN_CAMPAIGNS_MAX_AGE_MS } from '../../packages/server/src/updates/index.ts';
import { renderFda524bMarkdown } from '../../packages/server/src/vulns/index.ts';
import { buildFda524bReport } from '../../packages/server/src/vulns/report/fda524b-report.ts';
import { startUpdatesHarness, type UpdatesHarness } from './updates-harness.ts';

async function until(f: () => Promise<boolean>, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof MedTrustError, String(e));
    return e.code;
  }
  assert.fail('expected an error');
}

for (const dialect of TEST_DIALECTS) {
  describe(`campaigns (${dialect})`, () => {
    // 12:00 UTC on 23 Nov 2026 is 01:00 in Auckland (NZDT, UTC+13).
    const clock = new ManualClock(Date.UTC(2026, 10, 23, 12, 0, 0));
    let h: UpdatesHarness;
    let site: string;
    let devices: string[];
    before(async () => {
      h = await startUpdatesHarness({ dialect, clock, models: ['pump-a', 'pump-c'] });
      site = newId('ten');
      await h.t.db.insertInto('tenant').values({ id: site, kind: 'site', name: 'Auckland City', parent_id: null, time_zone: 'Pacific/Auckland', created_at: 0 }).execute();
      devices = Array.from({ length: 20 }, (_, i) => `dev_c${String(i).padStart(3, '0')}`);
      await h.t.db.insertInto('device').values(devices.map((id, i) => ({ id, serial: `C-${i}`, model: 'pump-c', hardware_revision: 'A', tenant_id: h.tenantId, site_id: site, state: 'active' as const, firmware_version: '1.0.0', batch_id: null, created_at: 0, updated_at: 0 }))).execute();
    });
    after(() => h.close());

    const phaseDevices = async (campaignId: string, phase: number): Promise<string[]> =>
      (await h.t.db.selectFrom('campaign_device').select('device_id').where('campaign_id', '=', campaignId).where('phase', '=', phase).orderBy('device_id').execute()).map((r) => r.device_id);

    it('opens phases at the success threshold and pauses at the failure threshold', async () => {
      const rel = await h.publish('pump-c', '2.0.0', 'fw.bin', Buffer.from('pump-c 2'));
      const created = await h.call('POST', '/api/v1/campaigns', { releaseId: rel.id, name: 'pump-c 2.0.0', selection: { model: 'pump-c', currentFirmware: '1.0.0' }, phases: [10, 50, 100], successThreshold: 0.9, failureThreshold: 0.2 });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const id = created.body.id as string;
      assert.equal(created.body.counts.pending, 20);
      const canary = await phaseDevices(id, 0);
      const second = await phaseDevices(id, 1);
      assert.equal(canary.length, 2);
      assert.equal(second.length, 8);
      const svc = h.updates.campaigns;
      assert.deepEqual(await svc.desiredFor(canary[0]!), { kind: 'install', campaignId: id, releaseId: rel.id, version: '2.0.0', target: 'pump-c/2.0.0/fw.bin', emergency: false });
      assert.deepEqual(await svc.desiredFor(second[0]!), { kind: 'wait', campaignId: id, reason: 'phase' });
      // A pump that is infusing defers: it counts neither as success nor as failure.
      await svc.report(id, canary[0]!, 'pending', 'therapy-running');
      assert.equal((await svc.get(id)).currentPhase, 0);
      for (const d of canary) assert.equal(await svc.report(id, d, 'installed'), true);
      assert.equal((await svc.get(id)).currentPhase, 1);
      // A repeated report (a QoS 1 redelivery) changes nothing, not even the time of the status.
      const installedAt = async () => (await h.t.db.selectFrom('campaign_device').select('updated_at').where('campaign_id', '=', id).where('device_id', '=', canary[0]!).executeTakeFirstOrThrow()).updated_at;
      const at = await installedAt();
      clock.advance(1_000);
      assert.equal(await svc.report(id, canary[0]!, 'installed'), false);
      assert.equal(await installedAt(), at);
      // The second phase's devices were offline; they get their desired state when they ask.
      assert.equal((await svc.desiredFor(second[0]!)).kind, 'install');
      await svc.report(id, second[0]!, 'failed');
      assert.equal((await svc.get(id)).state, 'running');
      await svc.report(id, second[1]!, 'rolled-back');
      const paused = await h.call('GET', `/api/v1/campaigns/${id}`);
      assert.equal(paused.body.state, 'paused');
      assert.deepEqual(await svc.desiredFor(second[2]!), { kind: 'wait', campaignId: id, reason: 'paused' });
      const audit = await h.t.db.selectFrom('audit_entry').select('action').where('target', '=', `campaign:${id}`).where('action', 'in', ['campaign.created', 'campaign.phase-opened', 'campaign.paused']).orderBy('seq').execute();
      assert.deepEqual(audit.map((a) => a.action), ['campaign.created', 'campaign.phase-opened', 'campaign.paused']);
      assert.equal((await h.call('POST', `/api/v1/campaigns/${id}/resume`)).body.state, 'running');
      assert.equal((await h.call('POST', `/api/v1/campaigns/${id}/resume`)).body.error.code, 'CAMPAIGN_STATE_INVALID');
    });

    it('waits for the maintenance window in the site\'s time zone; an emergency campaign does not', async () => {
      const rel = await h.publish('pump-c', '2.1.0', 'fw.bin', Buffer.from('pump-c 2.1'));
      const svc = h.updates.campaigns;
      const outside = await svc.create({ releaseId: rel.id, name: 'night', selection: { model: 'pump-c', siteIds: [site] }, phases: [100], maintenanceWindow: { startHour: 2, endHour: 5 }, actor: 'test' });
      const d = (await phaseDevices(outside.id, 0))[0]!;
      await h.t.db.updateTable('campaign').set({ state: 'cancelled' }).where('id', '!=', outside.id).execute();
      assert.deepEqual(await svc.desiredFor(d), { kind: 'wait', campaignId: outside.id, reason: 'maintenance-window' });
      clock.advance(60 * 60_000); // 02:00 in Auckland
      assert.equal((await svc.desiredFor(d)).kind, 'install');
      clock.advance(-60 * 60_000);
      const urgent = await svc.create({ releaseId: rel.id, name: 'CVE fix', selection: { model: 'pump-c' }, maintenanceWindow: { startHour: 2, endHour: 5 }, emergency: true, actor: 'test' });
      const want = await svc.desiredFor(d);
      assert.equal(want.kind, 'install');
      assert.equal(want.kind === 'install' && want.emergency, true);
      assert.deepEqual(urgent.phases, [100]);
      const a = await h.t.db.selectFrom('audit_entry').select('details').where('target', '=', `campaign:${urgent.id}`).where('action', '=', 'campaign.created').executeTakeFirstOrThrow();
      assert.equal(JSON.parse(a.details).emergency, true);
      // The 524B report marks it and carries each device's reported status.
      await svc.report(urgent.id, d, 'installed');
      const report = await buildFda524bReport(h.t.db, clock.nowMs());
      const entry = report.updateCampaigns.find((c) => c.campaignId === urgent.id);
      assert.equal(entry?.emergency, true);
      assert.deepEqual(entry?.models, ['pump-c']);
      assert.equal(entry?.version, '2.1.0');
      assert.equal(entry?.devices.find((x) => x.deviceId === d)?.status, 'installed');
      assert.equal(entry?.counts.installed, 1);
      assert.equal(report.updateCampaigns.find((c) => c.campaignId === outside.id)?.emergency, false);
      assert.match(renderFda524bMarkdown(report), /\| CVE fix \(cmp_\w+\) \| pump-c 2\.1\.0 \| \*\*EMERGENCY\*\* \|/);
    });

    it('selects by tag, and with manual approval waits for a release manager between phases', async () => {
      const rel = await h.publish('pump-c', '3.0.0', 'fw.bin', Buffer.from('pump-c 3'));
      await h.t.db.updateTable('campaign').set({ state: 'cancelled' }).execute();
      const biomed = (await h.tokens.create({ tenantId: h.tenantId, role: 'biomed', name: 'tags', createdBy: 'test' })).token;
      const tagged = devices.slice(0, 10);
      for (const d of tagged) assert.equal((await h.call('PUT', `/api/v1/devices/${d}/tags`, { tags: ['icu', 'pilot', 'icu'] }, biomed)).status, 200);
      assert.deepEqual((await h.call('GET', `/api/v1/devices/${tagged[0]}/tags`, undefined, biomed)).body, { tags: ['icu', 'pilot'] });
      const created = await h.call('POST', '/api/v1/campaigns', { releaseId: rel.id, name: 'icu with approval', selection: { model: 'pump-c', tags: ['icu', 'pilot'] }, phases: [20, 100], successThreshold: 1, failureThreshold: 0.5, requiresApproval: true });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const id = created.body.id as string;
      assert.equal(created.body.requiresApproval, true);
      assert.equal(created.body.counts.pending, 10, 'only the tagged devices');
      const svc = h.updates.campaigns;
      const [canary, rest] = [await phaseDevices(id, 0), await phaseDevices(id, 1)];
      assert.equal(canary.length, 2);
      for (const d of canary) await svc.report(id, d, 'installed');
      // Threshold met, but the next phase waits for a person.
      assert.equal((await svc.get(id)).state, 'awaiting-approval');
      assert.deepEqual(await svc.desiredFor(rest[0]!), { kind: 'wait', campaignId: id, reason: 'approval' });
      const reader = (await h.tokens.create({ tenantId: h.tenantId, role: 'auditor', name: 'r', createdBy: 'test' })).token;
      assert.equal((await h.call('POST', `/api/v1/campaigns/${id}/approve`, undefined, reader)).status, 403);
      const approved = await h.call('POST', `/api/v1/campaigns/${id}/approve`);
      assert.equal(approved.status, 200, JSON.stringify(approved.body));
      assert.deepEqual([approved.body.state, approved.body.currentPhase], ['running', 1]);
      assert.equal((await svc.desiredFor(rest[0]!)).kind, 'install');
      assert.equal((await h.call('POST', `/api/v1/campaigns/${id}/approve`)).body.error.code, 'CAMPAIGN_STATE_INVALID');
      const audit = await h.t.db.selectFrom('audit_entry').select(['action', 'actor', 'outcome']).where('target', '=', `campaign:${id}`).where('action', 'in', ['campaign.approval-requested', 'campaign.phase-approved']).orderBy('seq').execute();
      assert.deepEqual(audit.map((a) => [a.action, a.actor.startsWith('token:') ? 'token' : a.actor, a.outcome]), [['campaign.approval-requested', 'system', 'success'], ['campaign.phase-approved', 'token', 'success'], ['campaign.phase-approved', 'token', 'denied']]);
      for (const d of rest) await svc.report(id, d, 'installed');
      assert.equal((await svc.get(id)).state, 'completed');
    });

    it('answers a change made on another node within a second, and one made on this node at once', async () => {
      const rel = await h.publish('pump-c', '4.0.0', 'fw.bin', Buffer.from('pump-c 4'));
      await h.t.db.updateTable('campaign').set({ state: 'cancelled' }).execute();
      const here = h.updates.campaigns;
      // A second platform node: its own service on the same database.
      const there = new CampaignService({ db: h.t.db, audit: new DbAuditLog({ db: h.t.db, dialect, clock }), clock, minEvaluationIntervalMs: 0 });
      const c = await here.create({ releaseId: rel.id, name: 'two nodes', selection: { model: 'pump-c' }, phases: [100], successThreshold: 1, failureThreshold: 0.04, actor: 'test' });
      const [failing, waiting] = await phaseDevices(c.id, 0);
      assert.equal((await here.desiredFor(waiting!)).kind, 'install');
      // One failure in about 20 reaches the threshold: the other node pauses the campaign.
      await there.report(c.id, failing!, 'failed');
      assert.equal((await there.get(c.id)).state, 'paused');
      const paused = { kind: 'wait', campaignId: c.id, reason: 'paused' };
      assert.deepEqual(await there.desiredFor(waiting!), paused);
      const t0 = Date.now();
      await until(async () => (await here.desiredFor(waiting!)).kind === 'wait');
      assert.ok(Date.now() - t0 <= OPEN_CAMPAIGNS_MAX_AGE_MS + 500, `seen after ${Date.now() - t0} ms`);
      assert.deepEqual(await here.desiredFor(waiting!), paused);
      // Resumed here: this node answers the new state at once.
      await here.resume(c.id, 'test');
      assert.equal((await here.desiredFor(waiting!)).kind, 'install');
      await h.t.db.updateTable('campaign').set({ state: 'cancelled' }).where('id', '=', c.id).execute();
    });

    it('cancels the open campaigns of a release that is withdrawn: their devices are told to install nothing', async () => {
      const rel = await h.publish('pump-c', '5.0.0', 'fw.bin', Buffer.from('pump-c 5'));
      await h.t.db.updateTable('campaign').set({ state: 'cancelled' }).execute();
      const svc = h.updates.campaigns;
      const c = await svc.create({ releaseId: rel.id, name: 'to withdraw', selection: { model: 'pump-c' }, phases: [100], actor: 'test' });
      const d = (await phaseDevices(c.id, 0))[0]!;
      assert.equal((await svc.desiredFor(d)).kind, 'install');
      const withdrawn = await h.call('POST', `/api/v1/releases/${rel.id}/withdraw`);
      assert.equal(withdrawn.status, 200, JSON.stringify(withdrawn.body));
      assert.equal((await svc.get(c.id)).state, 'cancelled');
      assert.deepEqual(await svc.desiredFor(d), { kind: 'none' });
      const audit = await h.t.db.selectFrom('audit_entry').select(['actor', 'details']).where('action', '=', 'campaign.cancelled').where('target', '=', `campaign:${c.id}`).execute();
      assert.equal(audit.length, 1);
      assert.deepEqual(JSON.parse(audit[0]!.details), { reason: 'release-withdrawn', releaseId: rel.id });
      assert.match(audit[0]!.actor, /^token:/);
      assert.equal((await h.call('POST', `/api/v1/campaigns/${c.id}/resume`)).body.error.code, 'CAMPAIGN_STATE_INVALID');
    });

    it('refuses bad tags with a code and keeps the old ones', async () => {
      const biomed = (await h.tokens.create({ tenantId: h.tenantId, role: 'biomed', name: 'tags2', createdBy: 'test' })).token;
      const d = devices[0]!;
      for (const tags of [['has space'], ['-lead'], ['x'.repeat(65)], Array.from({ length: 21 }, (_, i) => `t${i}`)]) {
        const r = await h.call('PUT', `/api/v1/devices/${d}/tags`, { tags }, biomed);
        assert.equal(r.status, 400, JSON.stringify(tags));
        assert.ok(['DEVICE_TAG_INVALID', 'REQUEST_INVALID'].includes(r.body.error.code), r.body.error.code);
      }
      assert.deepEqual((await h.call('GET', `/api/v1/devices/${d}/tags`, undefined, biomed)).body.tags, ['icu', 'pilot']);
      assert.equal((await h.call('GET', '/api/v1/devices/dev_nope/tags', undefined, biomed)).status, 404);
      assert.equal(await codeOf(h.updates.campaigns.create({ releaseId: 'x', name: 'x', selection: { model: 'pump-c', tags: ['bad tag'] }, actor: 'test' })), 'CAMPAIGN_INVALID');
    });

    describe('when the definition is bad', () => {
      it('refuses with codes and stores nothing', async () => {
        const rel = await h.t.db.selectFrom('release').select('id').where('state', '=', 'published').executeTakeFirstOrThrow();
        const before = (await h.t.db.selectFrom('campaign').select('id').execute()).length;
        const svc = h.updates.campaigns;
        const base = { releaseId: rel.id, name: 'x', selection: { model: 'pump-c' }, actor: 'test' };
        assert.equal(await codeOf(svc.create({ ...base, phases: [50, 10, 100] })), 'CAMPAIGN_INVALID');
        assert.equal(await codeOf(svc.create({ ...base, phases: [10, 50] })), 'CAMPAIGN_INVALID');
        assert.equal(await codeOf(svc.create({ ...base, failureThreshold: 0 })), 'CAMPAIGN_INVALID');
        assert.equal(await codeOf(svc.create({ ...base, maintenanceWindow: { startHour: 25, endHour: 2 } })), 'CAMPAIGN_INVALID');
        assert.equal(await codeOf(svc.create({ ...base, selection: { model: 'pump-a' } })), 'CAMPAIGN_INVALID');
        assert.equal(await codeOf(svc.create({ ...base, releaseId: 'rel_nope' })), 'RELEASE_NOT_FOUND');
        const draft = await h.upload({ model: 'pump-c', version: '9.0.0', fileName: 'fw.bin' }, Buffer.from('draft'));
        assert.equal(await codeOf(svc.create({ ...base, releaseId: draft.body.id })), 'CAMPAIGN_INVALID');
        assert.equal((await h.t.db.selectFrom('campaign').select('id').execute()).length, before);
        assert.equal(await codeOf(svc.report('cmp_nope', devices[0]!, 'installed')), 'CAMPAIGN_NOT_FOUND');
      });
    });
  });
}
