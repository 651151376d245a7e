import { type Clock, newId, systemClock } from '@medtrust/core';
import type { Kysely } from 'kysely';
import type { AuditLog } from '../../audit/index.ts';
import type { Database } from '../../db/index.ts';
import { VulnError } from '../errors.ts';
import type { VulnScope } from '../vuln-scope.ts';
import type { CreatedAdvisory } from './create-advisory.ts';

export interface NoticeFirmware {
  readonly model: string;
  readonly firmwareVersion: string;
  /** The firmware version that fixes it, when the manufacturer has one. */
  readonly fixedBy: string | null;
  readonly devices: number;
}

export interface AdvisoryNotice {
  readonly id: string;
  readonly tenantId: string;
  readonly vulnId: string;
  readonly trackingId: string;
  readonly title: string;
  readonly firmwares: readonly NoticeFirmware[];
  readonly affectedDevices: number;
  readonly createdAt: string;
  readonly acknowledgedAt: string | null;
  readonly acknowledgedBy: string | null;
}

/** Called once per new or re-issued notice, after it is stored (alerts, live streams). */
export type NoticeListener = (n: AdvisoryNotice) => Promise<void>;

type Row = Database['vuln_advisory_notice'];

function view(r: Row): AdvisoryNotice {
  const firmwares = JSON.parse(r.firmwares) as NoticeFirmware[];
  return {
    id: r.id, tenantId: r.tenant_id, vulnId: r.vuln_id, trackingId: r.tracking_id, title: r.title, firmwares, affectedDevices: r.affected_devices,
    createdAt: new Date(r.created_at).toISOString(), acknowledgedAt: r.acknowledged_at === null ? null : new Date(r.acknowledged_at).toISOString(), acknowledgedBy: r.acknowledged_by,
  };
}

/**
 * Tells each hospital with a device on an affected firmware about a published advisory: one
 * stored notice per tenant (its own firmwares and device counts, the CSAF document), audited,
 * and handed to listeners (the platform raises a `security-advisory` alert). Re-issuing the same
 * advisory (same tracking id) refreshes the tenant's notice and asks for a new acknowledgement.
 */
export class AdvisoryNoticeService {
  readonly #db: Kysely<Database>;
  readonly #audit: AuditLog;
  readonly #clock: Clock;
  readonly #listeners: NoticeListener[] = [];

  constructor(opts: { db: Kysely<Database>; audit: AuditLog; clock?: Clock }) {
    this.#db = opts.db;
    this.#audit = opts.audit;
    this.#clock = opts.clock ?? systemClock;
  }

  onNotice(listener: NoticeListener): void {
    this.#listeners.push(listener);
  }

  /** Stores and sends the notices of a created advisory; returns them (one per affected tenant). */
  async notify(created: CreatedAdvisory, vulnId: string, actor: string): Promise<AdvisoryNotice[]> {
    const affected = created.standings.filter((s) => s.status === 'known_affected');
    if (affected.length === 0) return [];
    const doc = created.csaf as { document: { title: string; tracking: { id: string } } };
    const perTenant = new Map<string, NoticeFirmware[]>();
    for (const s of affected) {
      const rows = await this.#db.selectFrom('device').select(['tenant_id', (eb) => eb.fn.countAll().as('n')])
        .where('model', '=', s.model).where('firmware_version', '=', s.firmwareVersion).where('state', '!=', 'decommissioned').groupBy('tenant_id').execute();
      for (const r of rows) {
        const list = perTenant.get(r.tenant_id) ?? [];
        list.push({ model: s.model, firmwareVersion: s.firmwareVersion, fixedBy: s.fixedBy, devices: Number(r.n) });
        perTenant.set(r.tenant_id, list);
      }
    }
    const now = this.#clock.nowMs();
    const csaf = JSON.stringify(created.csaf);
    const out: AdvisoryNotice[] = [];
    for (const [tenantId, firmwares] of [...perTenant].sort(([a], [b]) => a.localeCompare(b))) {
      const affectedDevices = firmwares.reduce((n, f) => n + f.devices, 0);
      const values = { tenant_id: tenantId, vuln_id: vulnId, tracking_id: doc.document.tracking.id, title: doc.document.title, firmwares: JSON.stringify(firmwares), affected_devices: affectedDevices, csaf, created_at: now, created_by: actor, acknowledged_at: null, acknowledged_by: null };
      const row = await this.#db.transaction().execute(async (trx) => {
        const existing = await trx.selectFrom('vuln_advisory_notice').select('id').where('tenant_id', '=', tenantId).where('tracking_id', '=', values.tracking_id).executeTakeFirst();
        if (existing) {
          await trx.updateTable('vuln_advisory_notice').set(values).where('id', '=', existing.id).execute();
          return { id: existing.id, ...values };
        }
        const id = newId('ntc');
        await trx.insertInto('vuln_advisory_notice').values({ id, ...values }).execute();
        return { id, ...values };
      });
      await this.#audit.append({ actor, action: 'advisory.notify', target: `notice:${row.id}`, tenantId, details: { vulnId, trackingId: values.tracking_id, affectedDevices, firmwares: firmwares.length } });
      const n = view(row);
      out.push(n);
      for (const l of this.#listeners) await l(n);
    }
    return out;
  }

  async list(scope: VulnScope, f: { unacknowledged?: boolean; limit?: number } = {}): Promise<AdvisoryNotice[]> {
    return (await this.#rows(scope, f)).map(view);
  }

  /** One notice with its CSAF document. */
  async get(scope: VulnScope, id: string): Promise<AdvisoryNotice & { csaf: Record<string, unknown> }> {
    const [r] = await this.#rows(scope, { id });
    if (!r) throw new VulnError('ADVISORY_NOTICE_NOT_FOUND', `no advisory notice ${id}`);
    return { ...view(r), csaf: JSON.parse(r.csaf) as Record<string, unknown> };
  }

  async acknowledge(scope: VulnScope, id: string, actor: string): Promise<AdvisoryNotice> {
    const [r] = await this.#rows(scope, { id });
    if (!r) throw new VulnError('ADVISORY_NOTICE_NOT_FOUND', `no advisory notice ${id}`);
    if (r.acknowledged_at !== null) return view(r);
    const now = this.#clock.nowMs();
    await this.#db.updateTable('vuln_advisory_notice').set({ acknowledged_at: now, acknowledged_by: actor }).where('id', '=', id).where('acknowledged_at', 'is', null).execute();
    await this.#audit.append({ actor, action: 'advisory.acknowledge', target: `notice:${id}`, tenantId: r.tenant_id, details: { vulnId: r.vuln_id, trackingId: r.tracking_id } });
    return view({ ...r, acknowledged_at: now, acknowledged_by: actor });
  }

  /** The tenant whose notices a scope sees, or null for all; a site sees its hospital's (the advisory concerns the hospital's fleet). */
  async #tenantOf(scope: VulnScope): Promise<string | null> {
    switch (scope.kind) {
      case 'all':
        return null;
      case 'tenant':
        return scope.tenantId;
      case 'site': {
        const t = await this.#db.selectFrom('tenant').select('parent_id').where('id', '=', scope.siteId).executeTakeFirst();
        return t?.parent_id ?? scope.siteId;
      }
      default:
        return scope satisfies never;
    }
  }

  async #rows(scope: VulnScope, f: { id?: string; unacknowledged?: boolean; limit?: number }): Promise<Row[]> {
    const tenantId = await this.#tenantOf(scope);
    let q = this.#db.selectFrom('vuln_advisory_notice').selectAll();
    if (tenantId !== null) q = q.where('tenant_id', '=', tenantId);
    if (f.id !== undefined) q = q.where('id', '=', f.id);
    if (f.unacknowledged) q = q.where('acknowledged_at', 'is', null);
    return q.orderBy('created_at', 'desc').orderBy('id').limit(Math.min(Math.max(f.limit ?? 100, 1), 500)).execute();
  }
}
