// The read-only routes the dashboard added, on both dialects against a real platform:
// GET /api/v1/devices/summary (fleet aggregates, tenant-scoped, computed by the database) and
// GET /api/v1/campaigns (newest first, paged, per-status counts).
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { newId } from '@medtrust/core';
import { loadConfig, Platform } from '@medtrust/server';
import { createTestDatabase, TEST_DIALECTS, type TestDatabase } from '../../packages/server/src/db/testing.ts';

interface Count { key: string | null; count: number; name?: string | null }
interface Summary { total: number; byState: Count[]; byModel: Count[]; bySite: Count[]; byPresence: Count[] }
const asMap = (rows: Count[]): Record<string, number> => Object.fromEntries(rows.map((r) => [String(r.key), r.count]));

for (const dialect of TEST_DIALECTS) {
  describe(`dashboard API routes (${dialect})`, { timeout: 60_000 }, () => {
    let t: TestDatabase;
    let p: Platform;
    let base: string;
    const tokens: Record<string, string> = {};
    let hospitalA: string;
    let siteA: string;
    let releaseId: string;
    let deviceIds: string[] = [];

    const call = async (token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> => { // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON under test
      const r = await fetch(base + path, { method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: r.status, body: await r.json().catch(() => null) };
    };

    before(async () => {
      t = await createTestDatabase(dialect);
      p = await Platform.open({ config: loadConfig({ MEDTRUST_DATA_DIR: t.dataDir, MEDTRUST_HTTP_PORT: '0', MEDTRUST_HTTPS_PORT: '0', MEDTRUST_MQTT_PORT: '0', MEDTRUST_LOG_LEVEL: 'silent', ...(t.url ? { MEDTRUST_DATABASE_URL: t.url } : {}) }) });
      base = (await p.start()).httpUrl;
      const s = p.services;
      const operator = await s.tenants.ensureOperator();
      hospitalA = await s.tenants.create({ kind: 'customer', name: 'Hospital A' });
      siteA = await s.tenants.create({ kind: 'site', name: 'A North', parentId: hospitalA });
      const hospitalB = await s.tenants.create({ kind: 'customer', name: 'Hospital B' });
      const now = Date.now();
      // A: 3 active pumps (2 on site North), 1 quarantined monitor; B: 2 active pumps. Presence: one
      // of A online now, one connected but silent for 10 min (late), one disconnected, one never seen.
      const rows = [
        { tenant: hospitalA, site: siteA, model: 'pump-x', state: 'active' }, { tenant: hospitalA, site: siteA, model: 'pump-x', state: 'active' },
        { tenant: hospitalA, site: null, model: 'pump-x', state: 'active' }, { tenant: hospitalA, site: null, model: 'monitor-y', state: 'quarantined' },
        { tenant: hospitalB, site: null, model: 'pump-x', state: 'active' }, { tenant: hospitalB, site: null, model: 'pump-x', state: 'active' },
      ].map((r, i) => ({ id: newId('dev'), serial: `SN-${i}`, model: r.model, hardware_revision: 'A', tenant_id: r.tenant, site_id: r.site, state: r.state as 'active' | 'quarantined', firmware_version: '1.0.0', batch_id: null, created_at: now, updated_at: now }));
      await s.db.insertInto('device').values(rows).execute();
      deviceIds = rows.map((r) => r.id);
      const presence = (i: number, online: 0 | 1, lastSeen: number) => ({ device_id: rows[i]!.id, tenant_id: rows[i]!.tenant_id, online, last_seen_at: lastSeen, connected_at: lastSeen, disconnected_at: online ? null : lastSeen, transport: 'mqtt', node: 'n1' });
      await s.db.insertInto('device_presence').values([presence(0, 1, now), presence(1, 1, now - 600_000), presence(2, 0, now - 60_000), presence(4, 1, now)]).execute();
      for (const [name, tenantId, role] of [['opAdmin', operator, 'operator-admin'], ['release', operator, 'release-manager'], ['biomedA', hospitalA, 'biomed'], ['siteA', siteA, 'biomed'], ['adminB', hospitalB, 'hospital-admin']] as const) {
        tokens[name] = (await s.tokens.create({ tenantId, role, name, createdBy: 'test' })).token;
      }
      const up = await fetch(`${base}/api/v1/releases?model=pump-x&version=2.0.0&fileName=fw.bin`, { method: 'POST', headers: { authorization: `Bearer ${tokens.release}`, 'content-type': 'application/octet-stream' }, body: new Uint8Array(Buffer.from('firmware 2.0.0')) });
      assert.equal(up.status, 201);
      releaseId = ((await up.json()) as { id: string }).id;
      for (const step of ['approve', 'publish']) assert.equal((await call(tokens.release!, 'POST', `/api/v1/releases/${releaseId}/${step}`)).status, 200);
    });

    after(async () => {
      await p?.stop();
      await t?.close();
    });

    it('summary: a hospital sees only its own fleet, counted by state, model, site and connection', async () => {
      const r = await call(tokens.biomedA!, 'GET', '/api/v1/devices/summary');
      assert.equal(r.status, 200);
      const s = r.body as Summary;
      assert.equal(s.total, 4);
      assert.deepEqual(asMap(s.byState), { active: 3, quarantined: 1 });
      assert.deepEqual(asMap(s.byModel), { 'pump-x': 3, 'monitor-y': 1 });
      assert.deepEqual(asMap(s.bySite), { [siteA]: 2, null: 2 });
      assert.equal(s.bySite.find((x) => x.key === siteA)?.name, 'A North');
      assert.deepEqual(asMap(s.byPresence), { online: 1, late: 1, offline: 1, 'never-seen': 1 });
      assert.equal(s.byState[0]!.key, 'active', 'largest group first');
    });

    it('summary: a site sees its devices, the operator the whole fleet, another hospital none of A', async () => {
      const site = (await call(tokens.siteA!, 'GET', '/api/v1/devices/summary')).body as Summary;
      assert.equal(site.total, 2);
      const all = (await call(tokens.opAdmin!, 'GET', '/api/v1/devices/summary')).body as Summary;
      assert.equal(all.total, 6);
      assert.deepEqual(asMap(all.byModel), { 'pump-x': 5, 'monitor-y': 1 });
      const b = await call(tokens.adminB!, 'GET', '/api/v1/devices/summary');
      assert.equal(b.body.total, 2);
      assert.ok(!JSON.stringify(b.body).includes(siteA), 'no site of A in B\'s summary');
      assert.equal((await fetch(`${base}/api/v1/devices/summary`)).status, 401);
    });

    it('presence of a page of devices in one call: own devices only, statuses as the summary counts them', async () => {
      const r = await call(tokens.biomedA!, 'GET', `/api/v1/devices/presence?ids=${deviceIds.join(',')}`);
      assert.equal(r.status, 200);
      const got = Object.fromEntries((r.body.presence as Array<{ deviceId: string; status: string }>).map((x) => [x.deviceId, x.status]));
      // Devices 4 and 5 are hospital B's: silently left out, as if they did not exist.
      assert.deepEqual(got, { [deviceIds[0]!]: 'online', [deviceIds[1]!]: 'late', [deviceIds[2]!]: 'offline', [deviceIds[3]!]: 'never-seen' });
      const empty = await call(tokens.biomedA!, 'GET', '/api/v1/devices/presence?ids=,,');
      assert.equal(empty.status, 400);
      assert.equal(empty.body.error.code, 'REQUEST_INVALID');
      const tooMany = await call(tokens.biomedA!, 'GET', `/api/v1/devices/presence?ids=${Array.from({ length: 101 }, (_, i) => `dev_${i}`).join(',')}`);
      assert.equal(tooMany.status, 400);
      assert.equal((await call(tokens.biomedA!, 'GET', '/api/v1/devices/presence')).status, 400);
    });

    it('campaigns: started, listed newest first with counts, paged; bad cursor and hospital roles refused', async () => {
      const ids: string[] = [];
      for (const name of ['first', 'second', 'third']) {
        const r = await call(tokens.release!, 'POST', '/api/v1/campaigns', { releaseId, name, selection: { model: 'pump-x' }, phases: [50, 100] });
        assert.equal(r.status, 201, JSON.stringify(r.body));
        ids.push(r.body.id);
      }
      const page1 = await call(tokens.opAdmin!, 'GET', '/api/v1/campaigns?limit=2');
      assert.equal(page1.status, 200);
      assert.deepEqual(page1.body.campaigns.map((c: { name: string }) => c.name), ['third', 'second']);
      // 5 active pump-x devices across tenants are selected, all pending at the start.
      assert.equal(page1.body.campaigns[0].counts.pending, 5);
      assert.equal(page1.body.next, ids[1]);
      const page2 = await call(tokens.opAdmin!, 'GET', `/api/v1/campaigns?limit=2&before=${page1.body.next}`);
      assert.deepEqual(page2.body.campaigns.map((c: { id: string }) => c.id), [ids[0]]);
      assert.equal(page2.body.next, null);
      const bad = await call(tokens.opAdmin!, 'GET', '/api/v1/campaigns?before=cmp_nosuch');
      assert.equal(bad.status, 404);
      assert.equal(bad.body.error.code, 'CAMPAIGN_NOT_FOUND');
      assert.equal((await call(tokens.opAdmin!, 'GET', '/api/v1/campaigns?limit=0')).status, 400);
      const hospital = await call(tokens.biomedA!, 'GET', '/api/v1/campaigns');
      assert.equal(hospital.status, 403);
      // The platform still serves after the refusals.
      assert.equal((await call(tokens.opAdmin!, 'GET', '/api/v1/campaigns')).body.campaigns.length, 3);
    });
  });
}
