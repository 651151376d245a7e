import { randomUUID } from 'node:crypto';
import { type Clock, systemClock } from '@medtrust/core';
import type { Kysely } from 'kysely';
import type { AuditLog } from '../../audit/index.ts';
import type { Database } from '../../db/index.ts';
import { VulnError } from '../errors.ts';
import { type CsafPublisher, exportCsafVex } from './export-csaf-vex.ts';
import { exportCycloneDxVex } from './export-cyclonedx-vex.ts';
import { validateCsaf } from './validate-csaf.ts';
import type { AdvisoryNotice, AdvisoryNoticeService } from '../advisory/advisory-notices.ts';
import { type CreatedAdvisory, createAdvisory } from '../advisory/create-advisory.ts';
import { VEX_JUSTIFICATIONS, VEX_STATUSES, type VexJustification, type VexRecord, type VexStatus } from './vex-record.ts';

/** The manufacturer's VEX analyses per (model, firmware, vulnerability), exported as CycloneDX or CSAF VEX. */
export class VexService {
  readonly #db: Kysely<Database>;
  readonly #audit: AuditLog;
  readonly #clock: Clock;
  readonly #publisher: CsafPublisher;
  readonly #notices: AdvisoryNoticeService | undefined;

  constructor(opts: { db: Kysely<Database>; audit: AuditLog; publisher: CsafPublisher; clock?: Clock; notices?: AdvisoryNoticeService }) {
    this.#notices = opts.notices;
    this.#db = opts.db;
    this.#audit = opts.audit;
    this.#publisher = opts.publisher;
    this.#clock = opts.clock ?? systemClock;
  }

  /** Records (or replaces) an analysis; not_affected requires a CSAF justification (CSAF 2.0 §6.1.27.9). */
  async record(r: { model: string; firmwareVersion: string; vulnId: string; status: string; justification?: string | null; detail?: string | null }, actor: string): Promise<VexRecord> {
    if (!(VEX_STATUSES as readonly string[]).includes(r.status)) throw new VulnError('VEX_INVALID', `unknown status ${r.status}`);
    const justification = r.justification ?? null;
    if (justification !== null && !(VEX_JUSTIFICATIONS as readonly string[]).includes(justification)) throw new VulnError('VEX_INVALID', `unknown justification ${justification}`);
    if (r.status === 'not_affected' && justification === null) throw new VulnError('VEX_INVALID', 'not_affected needs a justification');
    const row = { model: r.model, firmware_version: r.firmwareVersion, vuln_id: r.vulnId, status: r.status as VexStatus, justification, detail: r.detail ?? null, author: actor, updated_at: this.#clock.nowMs() };
    await this.#db.transaction().execute(async (trx) => {
      await trx.deleteFrom('vuln_vex').where('model', '=', r.model).where('firmware_version', '=', r.firmwareVersion).where('vuln_id', '=', r.vulnId).execute();
      await trx.insertInto('vuln_vex').values(row).execute();
    });
    await this.#audit.append({ actor, action: 'vex.record', target: `${r.model}@${r.firmwareVersion}/${r.vulnId}`, details: { status: r.status, justification } });
    return { model: row.model, firmwareVersion: row.firmware_version, vulnId: row.vuln_id, status: row.status, justification: justification as VexJustification | null, detail: row.detail, updatedAtMs: row.updated_at };
  }

  /** Analyses of a model (all firmware versions, or one). */
  async list(model: string, firmwareVersion?: string): Promise<VexRecord[]> {
    let q = this.#db.selectFrom('vuln_vex').selectAll().where('model', '=', model);
    if (firmwareVersion !== undefined) q = q.where('firmware_version', '=', firmwareVersion);
    const rows = await q.orderBy('firmware_version').orderBy('vuln_id').execute();
    return rows.map((r) => ({ model: r.model, firmwareVersion: r.firmware_version, vulnId: r.vuln_id, status: r.status, justification: r.justification as VexJustification | null, detail: r.detail, updatedAtMs: Number(r.updated_at) }));
  }

  async exportCycloneDx(model: string): Promise<string> {
    return exportCycloneDxVex({ model, records: await this.list(model), timestamp: new Date(this.#clock.nowMs()), serialNumber: `urn:uuid:${randomUUID()}` });
  }

  /** The CSAF 2.0 security advisory of one vulnerability (validated), and the tenants to notify. */
  /** Builds and validates the advisory, then notifies every affected tenant (when notices are wired). */
  async createAdvisory(vulnId: string, actor: string): Promise<CreatedAdvisory & { notices: AdvisoryNotice[] }> {
    const r = await createAdvisory(this.#db, { vulnId, publisher: this.#publisher, now: new Date(this.#clock.nowMs()) });
    await this.#audit.append({ actor, action: 'advisory.create', target: vulnId, details: { affectedTenants: r.affectedTenants.length, firmwares: r.standings.length } });
    const notices = this.#notices ? await this.#notices.notify(r, vulnId, actor) : [];
    return { ...r, notices };
  }

  /** CSAF 2.0 VEX, refused (CSAF_INVALID) unless it passes strict validation and the mandatory tests. */
  async exportCsaf(model: string): Promise<Record<string, unknown>> {
    const now = new Date(this.#clock.nowMs());
    const doc = exportCsafVex({ model, records: await this.list(model), publisher: this.#publisher, now, trackingId: `MT-VEX-${model}-${now.toISOString().slice(0, 10)}` });
    const findings = await validateCsaf(doc);
    if (findings.length > 0) throw new VulnError('CSAF_INVALID', 'generated CSAF VEX failed validation', { details: { findings: findings.slice(0, 50) } });
    return doc;
  }
}
