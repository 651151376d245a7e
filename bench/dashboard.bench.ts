// `npm run bench dashboard`: every API call the dashboard's views make, timed against a platform
// seeded with a hospital-scale fleet, on SQLite and (when reachable) PostgreSQL. Budget: one second
// per view; each row is the median of RUNS calls after one warm-up, ratio = median / 1000 ms.
//
// Volume (documented in docs/dashboard.md): 10,000 devices over 2 hospitals x 4 sites and 4
// models; heart rate every 15 min for a week for every device (672 samples each, 6.7M rows) plus
// every minute for a week for the VIEWED devices a clinician opens (10,080 each). A week at one
// sample a minute for all 10,000 (100M rows) does not fit this machine; the views only ever read
// one device's series, so the per-device index depth is what matters, and the viewed devices have
// the full one-a-minute depth. Also 10,000 certificates, 3,000 alerts, 2 campaigns (2,500 devices each).
// Env: DASHBOARD_DEVICES, DASHBOARD_DAYS, DASHBOARD_DIALECTS (e.g. "sqlite" or "sqlite,postgres").
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { loadConfig, Platform } from '../packages/server/src/index.ts';
import { createTestDatabase, type TestDatabase } from '../packages/server/src/db/testing.ts';
import type { SqlDialectName } from '../packages/server/src/db/index.ts';
import type { BenchRow } from './bench-row.ts';

const DEVICES = Number(process.env.DASHBOARD_DEVICES ?? 10_000);
const DAYS = Number(process.env.DASHBOARD_DAYS ?? 7);
const VIEWED = 10;
const RUNS = 5;
const BUDGET_MS = 1000;
const MODELS = ['pump-a', 'pump-b', 'monitor-c', 'glucose-d'];
const STATES = ['active', 'active', 'active', 'active', 'active', 'enrolled', 'provisioned', 'quarantined', 'decommissioned', 'active'] as const;
const DAY = 86_400_000;

const KEV_POLICY = `name: kev-quarantine
trigger: { schedule: { everyMinutes: 60 } }
rules:
  - name: kev-unpatched-30-days
    when: { all: [ { fact: vulns.kevMaxDaysUnpatched, gt: 30 }, { fact: device.state, in: [enrolled, active] } ] }
    actions: [ { kind: quarantine } ]
`;

export async function run(): Promise<BenchRow[]> {
  const dialects = (process.env.DASHBOARD_DIALECTS ?? 'sqlite,postgres').split(',').map((d) => d.trim()) as SqlDialectName[];
  const rows: BenchRow[] = [];
  for (const dialect of dialects) {
    let t: TestDatabase;
    try {
      t = await createTestDatabase(dialect);
    } catch (e) {
      rows.push({ name: `${dialect}: skipped`, value: 0, unit: '-', note: `database not reachable: ${(e as Error).message.slice(0, 80)}` });
      continue;
    }
    try {
      rows.push(...await benchOn(dialect, t));
    } finally {
      await t.close();
    }
  }
  return rows;
}

async function benchOn(dialect: SqlDialectName, t: TestDatabase): Promise<BenchRow[]> {
  const opened = performance.now();
  const p = await Platform.open({ config: loadConfig({ MEDTRUST_DATA_DIR: t.dataDir, MEDTRUST_HTTP_PORT: '0', MEDTRUST_HTTPS_PORT: '0', MEDTRUST_MQTT_PORT: '0', MEDTRUST_LOG_LEVEL: 'silent', ...(t.url ? { MEDTRUST_DATABASE_URL: t.url } : {}) }) });
  try {
    const base = (await p.start()).httpUrl;
    process.stderr.write(`  ${dialect}: platform up in ${((performance.now() - opened) / 1000).toFixed(1)} s\n`);
    const s = p.services;
    const seedStart = performance.now();
    const operator = await s.tenants.ensureOperator();
    const hospitals = [await s.tenants.create({ kind: 'customer', name: 'Hospital A' }), await s.tenants.create({ kind: 'customer', name: 'Hospital B' })];
    const sites: string[][] = [];
    for (const [i, h] of hospitals.entries()) sites.push(await Promise.all([1, 2, 3, 4].map((n) => s.tenants.create({ kind: 'site', name: `H${i} site ${n}`, parentId: h }))));
    const now = Date.now();
    const devices = Array.from({ length: DEVICES }, (_, i) => {
      const h = i % 2;
      return {
        id: `dev_b${String(i).padStart(6, '0')}`, serial: `SN${String(i).padStart(6, '0')}`, model: MODELS[i % MODELS.length]!, hardware_revision: 'A',
        tenant_id: hospitals[h]!, site_id: i % 10 === 9 ? null : sites[h]![i % 4]!, state: STATES[i % STATES.length]!, firmware_version: `1.${i % 3}.0`, batch_id: null,
        created_at: now - DAYS * DAY, updated_at: now - DAYS * DAY,
      };
    });
    for (let i = 0; i < devices.length; i += 500) await s.db.insertInto('device').values(devices.slice(i, i + 500)).execute();
    // Presence: 70% seen, of which most connected now.
    const presence = devices.filter((_, i) => i % 10 < 7).map((d, i) => ({ device_id: d.id, tenant_id: d.tenant_id, online: i % 5 === 0 ? 0 : 1, last_seen_at: now - (i % 7) * 30_000, connected_at: now - DAY, disconnected_at: null, transport: 'mqtt', node: 'bench' }));
    for (let i = 0; i < presence.length; i += 500) await s.db.insertInto('device_presence').values(presence.slice(i, i + 500)).execute();
    // Certificates: one LDevID row per device (placeholder DER: the list views never parse it).
    const der = randomBytes(600);
    const certs = devices.map((d, i) => ({ serial: i.toString(16).padStart(32, '0'), ca_name: 'operational', profile: 'ldevid', device_id: d.id, tenant_id: d.tenant_id, subject: `CN=${d.serial}`, not_before: now - DAY, not_after: now + 365 * DAY, spki_sha256: randomBytes(32), der, status: 'valid', revoked_at: null, revocation_reason: null, superseded_by: null, created_at: now - DAY + i }));
    for (let i = 0; i < certs.length; i += 500) await s.db.insertInto('certificate').values(certs.slice(i, i + 500) as never).execute();
    // Alerts: 3,000 over the week, the last 1,000 still raised.
    const alerts = Array.from({ length: 3000 }, (_, i) => {
      const d = devices[(i * 7) % devices.length]!;
      return { id: `alr_b${i}`, tenant_id: d.tenant_id, rule_id: 'rule_bench', device_id: d.id, patient_id: null, priority: (['high', 'medium', 'low'] as const)[i % 3]!, state: i >= 2000 ? 'raised' : 'resolved', dedupe_key: `b${i}`, raised_at: now - DAYS * DAY + i * 200_000, received_at: now - DAYS * DAY + i * 200_000, repeat_count: 0, acknowledged_at: null, acknowledged_by: null, resolved_at: null, resolved_by: null, condition_cleared_at: null, escalation_level: 0, escalated_at: null, details: JSON.stringify({ alarm: 'occlusion' }) };
    });
    for (let i = 0; i < alerts.length; i += 500) await s.db.insertInto('alert').values(alerts.slice(i, i + 500) as never).execute();
    // Vitals, generated inside the database (one statement each).
    const from = now - DAYS * DAY;
    if (dialect === 'postgres') {
      await sql`insert into telemetry_sample (device_id, metric, ts, value, message_id) select d.id, 'heart_rate', g.ts, 60 + floor(random() * 40), 'b' || g.ts from device d cross join generate_series(${from}::bigint, ${now}::bigint, 900000::bigint) as g(ts)`.execute(s.db);
      await sql`insert into telemetry_sample (device_id, metric, ts, value, message_id) select d.id, 'heart_rate', g.ts, 60 + floor(random() * 40), 'v' || g.ts from device d cross join generate_series(${from + 60_000}::bigint, ${now}::bigint, 60000::bigint) as g(ts) where d.id < ${`dev_b${String(VIEWED).padStart(6, '0')}`} and g.ts % 900000 <> ${from % 900_000}`.execute(s.db);
    } else {
      await sql`with recursive g(ts) as (select ${from} union all select ts + 900000 from g where ts + 900000 <= ${now}) insert into telemetry_sample (device_id, metric, ts, value, message_id) select d.id, 'heart_rate', g.ts, 60 + abs(random() % 40), 'b' || g.ts from device d cross join g`.execute(s.db);
      await sql`with recursive g(ts) as (select ${from + 60_000} union all select ts + 60000 from g where ts + 60000 <= ${now}) insert into telemetry_sample (device_id, metric, ts, value, message_id) select d.id, 'heart_rate', g.ts, 60 + abs(random() % 40), 'v' || g.ts from device d cross join g where d.id < ${`dev_b${String(VIEWED).padStart(6, '0')}`} and (g.ts - ${from}) % 900000 <> 0`.execute(s.db);
    }
    if (dialect === 'postgres') await sql`analyze`.execute(s.db);
    else await sql`analyze`.execute(s.db);
    const samples = Number((await s.db.selectFrom('telemetry_sample').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

    const token = async (tenantId: string, role: 'operator-admin' | 'hospital-admin' | 'release-manager' | 'security-analyst') => (await s.tokens.create({ tenantId, role, name: role, createdBy: 'bench' })).token;
    const op = await token(operator, 'operator-admin');
    const hospital = await token(hospitals[0]!, 'hospital-admin');
    const release = await token(operator, 'release-manager');
    const call = async (tok: string, method: string, path: string, body?: unknown): Promise<unknown> => {
      const r = await fetch(base + path, { method, headers: { authorization: `Bearer ${tok}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await r.text();
      if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text.slice(0, 200)}`);
      return text ? JSON.parse(text) : null;
    };
    // A published release and two campaigns of 2,500 devices each (pump-a), through the API.
    const up = await fetch(`${base}/api/v1/releases?model=pump-a&version=2.0.0&fileName=fw.bin`, { method: 'POST', headers: { authorization: `Bearer ${release}`, 'content-type': 'application/octet-stream' }, body: new Uint8Array(randomBytes(4096)) });
    const releaseId = ((await up.json()) as { id: string }).id;
    for (const step of ['approve', 'publish']) await call(release, 'POST', `/api/v1/releases/${releaseId}/${step}`);
    for (const name of ['wave 1', 'wave 2']) await call(release, 'POST', '/api/v1/campaigns', { releaseId, name, selection: { model: 'pump-a' } });
    await call(op, 'POST', '/api/v1/policies', { document: KEV_POLICY });
    const seedMs = performance.now() - seedStart;
    process.stderr.write(`  ${dialect}: seeded in ${(seedMs / 1000).toFixed(1)} s\n`);

    const viewed = devices[0]!.id;
    // Hospital A's (even index) last device: only the device's own tenant may read vitals (PHI).
    const sparse = devices[DEVICES - 2]!.id;
    const deep = devices[Math.floor(DEVICES * 0.9)]!.id;
    const page = ((await call(op, 'GET', '/api/v1/devices?limit=25')) as { devices: Array<{ id: string }> }).devices;
    const hour = `from=${now - 3_600_000}&to=${now}&bucketMs=60000`;
    const week = `from=${from}&to=${now}&bucketMs=3600000`;
    const views: Array<[string, () => Promise<unknown>]> = [
      ['fleet: summary (operator, 10k)', () => call(op, 'GET', '/api/v1/devices/summary')],
      ['fleet: summary (hospital, 5k)', () => call(hospital, 'GET', '/api/v1/devices/summary')],
      ['fleet: risk by firmware', () => call(op, 'GET', '/api/v1/vulnerabilities')],
      ['fleet: device page 1', () => call(op, 'GET', '/api/v1/devices?limit=25')],
      ['fleet: device page at 90%', () => call(op, 'GET', `/api/v1/devices?limit=25&after=${deep}`)],
      ['fleet: model+state filter', () => call(hospital, 'GET', '/api/v1/devices?limit=25&model=pump-b&state=active')],
      ['fleet: presence of a page (one call)', () => call(op, 'GET', `/api/v1/devices/presence?ids=${page.map((d) => d.id).join(',')}`)],
      ['device: record', () => call(hospital, 'GET', `/api/v1/devices/${viewed}`)],
      ['device: vitals 1 h / 1 min (1/min device)', () => call(hospital, 'GET', `/api/v1/devices/${viewed}/telemetry?metric=heart_rate&${hour}`)],
      ['device: vitals 7 d / 1 h (1/min device)', () => call(hospital, 'GET', `/api/v1/devices/${viewed}/telemetry?metric=heart_rate&${week}`)],
      ['device: vitals 7 d / 1 h (1/15 min device)', () => call(hospital, 'GET', `/api/v1/devices/${sparse}/telemetry?metric=heart_rate&${week}`)],
      ['device: alerts', () => call(hospital, 'GET', `/api/v1/alerts?deviceId=${viewed}&limit=50`)],
      ['device: certificates', () => call(hospital, 'GET', `/api/v1/certificates?deviceId=${viewed}`)],
      ['device: vulnerabilities + risk', () => call(hospital, 'GET', `/api/v1/devices/${viewed}/vulnerabilities`)],
      ['device: audit trail', () => call(op, 'GET', `/api/v1/audit?target=device:${viewed}&limit=50`)],
      ['alerts: open (hospital)', () => call(hospital, 'GET', '/api/v1/alerts?state=open&limit=200')],
      ['certificates: newest 100 (hospital)', () => call(hospital, 'GET', '/api/v1/certificates?status=valid&limit=100')],
      ['releases: list', () => call(op, 'GET', '/api/v1/releases')],
      ['campaigns: list with counts', () => call(op, 'GET', '/api/v1/campaigns')],
      ['policies: list', () => call(op, 'GET', '/api/v1/policies')],
      ['policies: dry run over the fleet (hospital)', () => call(hospital, 'POST', '/api/v1/policies/dry-run', { document: KEV_POLICY })],
      ['audit: first page', () => call(op, 'GET', '/api/v1/audit?limit=50')],
      ['audit: verify chain', () => call(op, 'GET', '/api/v1/audit/verify')],
    ];
    const out: BenchRow[] = [{ name: `${dialect}: seed`, value: seedMs / 1000, unit: 's', note: `${DEVICES} devices, ${samples.toLocaleString('en')} vitals samples (${DAYS} d), ${DEVICES} certificates, 3k alerts, 2 campaigns` }];
    for (const [name, fn] of views) {
      await fn();
      const ms: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const t0 = performance.now();
        await fn();
        ms.push(performance.now() - t0);
      }
      ms.sort((a, b) => a - b);
      const median = ms[Math.floor(ms.length / 2)]!;
      out.push({ name: `${dialect}: ${name}`, value: median, unit: 'ms', baseline: `${BUDGET_MS} ms budget`, ratio: median / BUDGET_MS, note: `max ${ms.at(-1)!.toFixed(0)} ms${median > BUDGET_MS ? ' OVER BUDGET' : ''}` });
    }
    return out;
  } finally {
    await p.stop();
  }
}
