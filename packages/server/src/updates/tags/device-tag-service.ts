import { type Clock, CoreError, systemClock } from '@medtrust/core';
import type { Kysely } from 'kysely';
import type { AuditLog } from '../../audit/index.ts';
import type { Database } from '../../db/index.ts';
import { isTag } from '../campaigns/campaign-service.ts';
import { UpdateError } from '../errors.ts';

/** Who is asking: the operator sees every device, a hospital its own, a site the devices placed there. */
export interface TagCaller {
  readonly tenantId: string;
  readonly tenantKind: 'operator' | 'customer' | 'site';
}

const MAX_TAGS = 20;

/**
 * Labels a tenant puts on its own devices (`icu`, `ward-3`, `pilot`), which campaigns select by.
 * Tags live with the device's tenant: another tenant can neither read nor set them, and a device
 * it cannot see is simply not found (so ids of other tenants are not confirmed either).
 */
export class DeviceTagService {
  readonly #db: Kysely<Database>;
  readonly #audit: AuditLog;
  readonly #clock: Clock;

  constructor(opts: { db: Kysely<Database>; audit: AuditLog; clock?: Clock }) {
    this.#db = opts.db;
    this.#audit = opts.audit;
    this.#clock = opts.clock ?? systemClock;
  }

  /** NOT_FOUND unless the caller's tenant sees the device; checked before the body is read. */
  async assertVisible(caller: TagCaller, deviceId: string): Promise<{ readonly tenantId: string }> {
    const d = await this.#db.selectFrom('device').select(['tenant_id', 'site_id']).where('id', '=', deviceId).executeTakeFirst();
    if (!d || !(caller.tenantKind === 'operator' || d.tenant_id === caller.tenantId || d.site_id === caller.tenantId)) throw new CoreError('NOT_FOUND', 'no such device');
    return { tenantId: d.tenant_id };
  }

  async list(caller: TagCaller, deviceId: string): Promise<string[]> {
    await this.assertVisible(caller, deviceId);
    const rows = await this.#db.selectFrom('device_tag').select('tag').where('device_id', '=', deviceId).orderBy('tag').execute();
    return rows.map((r) => r.tag);
  }

  /** Replaces the device's tags (an empty list clears them); audited in the device's tenant. */
  async set(caller: TagCaller, deviceId: string, tags: readonly unknown[], actor: string): Promise<string[]> {
    const { tenantId } = await this.assertVisible(caller, deviceId);
    if (!Array.isArray(tags) || tags.length > MAX_TAGS || !tags.every(isTag)) {
      throw new UpdateError('DEVICE_TAG_INVALID', `up to ${MAX_TAGS} tags of 1-64 of A-Z a-z 0-9 . _ : -`, { details: { field: 'tags' } });
    }
    const unique = [...new Set(tags)].sort();
    const now = this.#clock.nowMs();
    await this.#db.transaction().execute(async (trx) => {
      await trx.deleteFrom('device_tag').where('device_id', '=', deviceId).execute();
      if (unique.length > 0) await trx.insertInto('device_tag').values(unique.map((tag) => ({ device_id: deviceId, tag, tenant_id: tenantId, created_at: now, created_by: actor }))).execute();
    });
    await this.#audit.append({ actor, action: 'device.tags-set', target: `device:${deviceId}`, tenantId, details: { tags: unique } });
    return unique;
  }
}
