import { CoreError } from '@medtrust/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type Kysely, sql } from 'kysely';
import { actorOf, tenantOf, type TokenService } from '../access/index.ts';
import type { Database } from '../db/index.ts';
import { bearerSecurity, requirePermission } from '../http/index.ts';
import { DEVICE_STATES, type DeviceState } from './device-lifecycle.ts';
import type { Device, DeviceRegistry } from './device-registry.ts';

const idParam = { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } } as const;

/** Whether a caller's tenant sees a device: the operator all, a hospital its own, a site its own. */
function visible(d: Device, req: FastifyRequest): boolean {
  const t = tenantOf(req.principal!);
  return t.tenantKind === 'operator' || d.tenantId === t.tenantId || d.siteId === t.tenantId;
}

/** The device registry over REST: list, read, assign to a hospital, and lifecycle moves. */
export function deviceRoutes(o: { tokens: TokenService; devices: DeviceRegistry; db: Kysely<Database> }) {
  return async (app: FastifyInstance): Promise<void> => {
    const can = (p: Parameters<typeof requirePermission>[1]) => ({ preValidation: requirePermission(o.tokens, p) });
    const tags = ['devices'];
    const load = async (req: FastifyRequest): Promise<Device> => {
      const d = await o.devices.find((req.params as { id: string }).id);
      if (!d || !visible(d, req)) throw new CoreError('NOT_FOUND', 'no such device');
      return d;
    };

    app.get('/api/v1/devices', {
      ...can('device:read'),
      schema: { tags, summary: 'Devices visible to you, by id; page with `after` (the last id of the previous page)', security: bearerSecurity, querystring: { type: 'object', additionalProperties: false, properties: { state: { enum: [...DEVICE_STATES] }, model: { type: 'string', maxLength: 100 }, limit: { type: 'integer', minimum: 1, maximum: 500 }, after: { type: 'string', maxLength: 64 } } } },
    }, async (req) => {
      const q = req.query as { state?: DeviceState; model?: string; limit?: number; after?: string };
      const t = tenantOf(req.principal!);
      const scope = t.tenantKind === 'operator' ? {} : t.tenantKind === 'site' ? { siteId: t.tenantId } : { tenantId: t.tenantId };
      const limit = q.limit ?? 100;
      const devices = await o.devices.list({ ...scope, state: q.state, model: q.model, limit, afterId: q.after });
      return { devices, next: devices.length === limit ? devices.at(-1)!.id : null };
    });
    app.get('/api/v1/devices/summary', {
      ...can('device:read'),
      schema: { tags, summary: 'Fleet overview for the dashboard: devices in your scope counted by state, model, site and connection status (aggregated in the database)', security: bearerSecurity },
    }, async (req) => {
      const t = tenantOf(req.principal!);
      const base = () => o.db.selectFrom('device');
      const scope = (q: ReturnType<typeof base>) => (t.tenantKind === 'operator' ? q : q.where(t.tenantKind === 'site' ? 'device.site_id' : 'device.tenant_id', '=', t.tenantId));
      const count = (key: 'device.state' | 'device.model' | 'device.site_id') => scope(base()).select([key, (eb) => eb.fn.countAll<number | string>().as('n')]).groupBy(key).execute();
      const now = Date.now();
      // Same rule as PresenceService.get: connected but silent for two heartbeat intervals is late.
      const status = sql<string>`case when p.device_id is null then 'never-seen' when p.online <> 1 then 'offline' when p.last_seen_at < ${now} - 2 * coalesce(m.heartbeat_interval_ms, 60000) then 'late' else 'online' end`;
      const [byState, byModel, bySite, byPresence, sites] = await Promise.all([
        count('device.state'), count('device.model'), count('device.site_id'),
        // Grouped in an outer query: the bound `now` differs per occurrence, so `group by <case>` would not match the select on PostgreSQL.
        o.db.selectFrom(scope(base()).leftJoin('device_presence as p', 'p.device_id', 'device.id').leftJoin('device_model_profile as m', 'm.model', 'device.model').select(status.as('status')).as('x'))
          .select(['x.status', (eb) => eb.fn.countAll<number | string>().as('n')]).groupBy('x.status').execute(),
        scope(base()).innerJoin('tenant as s', 's.id', 'device.site_id').select(['s.id', 's.name']).distinct().execute(),
      ]);
      const names = new Map(sites.map((s) => [s.id, s.name]));
      const rows = <K extends string>(list: ReadonlyArray<{ n: number | string } & Record<K, unknown>>, key: K) =>
        list.map((r) => ({ key: r[key] === null ? null : String(r[key]), count: Number(r.n) })).sort((a, b) => b.count - a.count);
      return {
        total: byState.reduce((sum, r) => sum + Number(r.n), 0),
        byState: rows(byState, 'state'),
        byModel: rows(byModel, 'model'),
        bySite: rows(bySite, 'site_id').map((r) => ({ ...r, name: r.key === null ? null : names.get(r.key) ?? null })),
        byPresence: rows(byPresence, 'status'),
      };
    });
    app.get('/api/v1/devices/presence', {
      ...can('device:read'),
      schema: { tags, summary: 'Connection status of up to 100 devices in one call (a page of the fleet list); devices you do not see are left out', security: bearerSecurity, querystring: { type: 'object', required: ['ids'], additionalProperties: false, properties: { ids: { type: 'string', maxLength: 6500, description: 'comma-separated device ids' } } } },
    }, async (req) => {
      const ids = [...new Set((req.query as { ids: string }).ids.split(',').map((x) => x.trim()).filter((x) => x.length > 0 && x.length <= 64))];
      if (ids.length === 0 || ids.length > 100) throw new CoreError('REQUEST_INVALID', 'ids: 1 to 100 comma-separated device ids');
      const t = tenantOf(req.principal!);
      const now = Date.now();
      let q = o.db.selectFrom('device').leftJoin('device_presence as p', 'p.device_id', 'device.id').leftJoin('device_model_profile as m', 'm.model', 'device.model')
        .select(['device.id', 'p.last_seen_at', sql<string>`case when p.device_id is null then 'never-seen' when p.online <> 1 then 'offline' when p.last_seen_at < ${now} - 2 * coalesce(m.heartbeat_interval_ms, 60000) then 'late' else 'online' end`.as('status')])
        .where('device.id', 'in', ids);
      if (t.tenantKind !== 'operator') q = q.where(t.tenantKind === 'site' ? 'device.site_id' : 'device.tenant_id', '=', t.tenantId);
      const rows = await q.execute();
      return { presence: rows.map((r) => ({ deviceId: r.id, status: r.status, lastSeenAt: r.last_seen_at === null ? null : Number(r.last_seen_at) })) };
    });
    app.get('/api/v1/devices/:id', { ...can('device:read'), schema: { tags, summary: 'One device', security: bearerSecurity, params: idParam } }, async (req) => load(req));

    app.post('/api/v1/devices/:id/assign', {
      ...can('device:assign'),
      schema: { tags, summary: 'Hand a device to a hospital (and one of its sites)', security: bearerSecurity, params: idParam, body: { type: 'object', required: ['tenantId'], additionalProperties: false, properties: { tenantId: { type: 'string', maxLength: 64 }, siteId: { type: 'string', maxLength: 64 } } } },
    }, async (req) => {
      const d = await load(req);
      const b = req.body as { tenantId: string; siteId?: string };
      const tenant = await o.db.selectFrom('tenant').select(['id', 'kind']).where('id', '=', b.tenantId).executeTakeFirst();
      if (!tenant || tenant.kind !== 'customer') throw new CoreError('REQUEST_INVALID', 'tenantId must name a customer (hospital) tenant');
      if (b.siteId !== undefined) {
        const site = await o.db.selectFrom('tenant').select(['id', 'parent_id', 'kind']).where('id', '=', b.siteId).executeTakeFirst();
        if (!site || site.kind !== 'site' || site.parent_id !== b.tenantId) throw new CoreError('REQUEST_INVALID', 'siteId must name a site of that tenant');
      }
      return o.devices.assign(d.id, b.tenantId, b.siteId ?? null, actorOf(req.principal!));
    });

    app.post('/api/v1/devices/:id/state', {
      ...can('device:manage'),
      schema: { tags, summary: 'Quarantine, release (active) or decommission a device; a quarantined device is disconnected and refused', security: bearerSecurity, params: idParam, body: { type: 'object', required: ['state'], additionalProperties: false, properties: { state: { enum: ['quarantined', 'active', 'decommissioned'] }, reason: { type: 'string', maxLength: 500 } } } },
    }, async (req) => {
      const d = await load(req);
      return o.devices.transition(d.id, (req.body as { state: DeviceState }).state, actorOf(req.principal!));
    });
  };
}
