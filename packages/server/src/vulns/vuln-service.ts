import { type Clock, newId, systemClock } from '@medtrust/core';
import { Ajv } from 'ajv';
import type { Kysely, SelectQueryBuilder } from 'kysely';
import type { AuditLog } from '../audit/index.ts';
import type { Database } from '../db/index.ts';
import { AdvisoryNoticeService } from './advisory/advisory-notices.ts';
import { VulnError } from './errors.ts';
import { type FeedImportReport, storeFeedBatch } from './feed-store.ts';
import type { FeedBatch } from './feeds/read-feed-files.ts';
import { toMatchable } from './match/firmware-matcher.ts';
import { chunks, type Firmware, MatchStore } from './match-store.ts';
import { CRITICALITIES, type Criticality, deviceRisk, type DeviceRisk, EXPOSURES, type Exposure, type RiskProfile } from './risk/device-risk.ts';
import { exportCycloneDx16, parseSbom } from './sbom/index.ts';
import type { VulnScope } from './vuln-scope.ts';
import type { CsafPublisher } from './vex/export-csaf-vex.ts';
import { VexService } from './vex/vex-service.ts';
import { buildFda524bReport, type Fda524bReport } from './report/fda524b-report.ts';

export interface SbomImportResult {
  readonly sbomId: string;
  readonly format: 'cyclonedx' | 'spdx';
  readonly specVersion: string;
  readonly components: number;
  readonly matches: number;
}

/** One vulnerability (aliases merged) as it affects a firmware. */
export interface FirmwareVulnerability {
  readonly vulnId: string;
  readonly status: 'affected' | 'unknown';
  readonly advisories: string[];
  readonly aliases: string[];
  readonly summary: string;
  readonly cvss31Vector: string | null;
  readonly cvss40Vector: string | null;
  readonly kev: boolean;
  readonly epss: number | null;
  /** The manufacturer's VEX analysis for this firmware, if recorded. */
  readonly analysis: { status: string; justification: string | null; detail: string | null } | null;
  readonly components: Array<{ name: string; version: string | null; purl: string | null; cpe: string | null; status: 'affected' | 'unknown'; reason: string; fixedVersion: string | null; advisoryId: string }>;
}

export interface DeviceExposure {
  readonly deviceId: string;
  readonly model: string;
  readonly firmwareVersion: string | null;
  readonly siteId: string | null;
  readonly vulnerabilities: FirmwareVulnerability[];
  readonly risk: DeviceRisk;
}

// Keyword defaults when no profile is recorded for a model: conservative for pumps/ventilators.
function derivedProfile(model: string): { criticality: Criticality; exposure: Exposure } {
  const m = model.toLowerCase();
  const criticality: Criticality = /ventilat|life|ecmo|dialys|defib|pacemak/.test(m) ? 'life-sustaining' : /pump|infus|therap|insulin/.test(m) ? 'therapy' : /monitor|glucose|ecg|spo2|oximet/.test(m) ? 'monitoring' : 'therapy';
  return { criticality, exposure: 'hospital-network' };
}

/** SBOMs, feeds, matches and device exposure: the vulnerability vigilance service. */
export class VulnService {
  readonly #db: Kysely<Database>;
  readonly #audit: AuditLog;
  readonly #clock: Clock;
  readonly #ajv = new Ajv({ allErrors: true, strict: false });
  readonly matches: MatchStore;
  /** VEX analyses and their CycloneDX / CSAF exports. */
  readonly vex: VexService;
  /** What affected hospitals were told about advisories, and their acknowledgements. */
  readonly notices: AdvisoryNoticeService;

  /** `publisher` names the manufacturer in CSAF documents (namespace: its public URL). */
  constructor(opts: { db: Kysely<Database>; audit: AuditLog; clock?: Clock; publisher?: CsafPublisher }) {
    this.#db = opts.db;
    this.#audit = opts.audit;
    this.#clock = opts.clock ?? systemClock;
    this.matches = new MatchStore({ clock: this.#clock });
    this.notices = new AdvisoryNoticeService({ db: this.#db, audit: this.#audit, clock: this.#clock });
    this.vex = new VexService({ db: this.#db, audit: this.#audit, clock: this.#clock, notices: this.notices, publisher: opts.publisher ?? { name: 'MedTrust operator', namespace: 'https://localhost' } });
  }

  /** Validates and stores an SBOM for (model, firmware version), replacing any previous one, and matches it. */
  async importSbom(opts: { model: string; firmwareVersion: string; text: string; actor: string; tenantId?: string }): Promise<SbomImportResult> {
    const doc = await parseSbom(opts.text, this.#ajv).catch(async (e: unknown) => {
      if (e instanceof VulnError) await this.#audit.append({ actor: opts.actor, action: 'sbom.import', target: `${opts.model}@${opts.firmwareVersion}`, outcome: 'failure', tenantId: opts.tenantId ?? null, details: { code: e.code } });
      throw e;
    });
    const fw: Firmware = { model: opts.model, firmwareVersion: opts.firmwareVersion };
    const sbomId = newId('sbom');
    const matches = await this.#db.transaction().execute(async (trx) => {
      const old = await trx.selectFrom('vuln_sbom').select('id').where('model', '=', fw.model).where('firmware_version', '=', fw.firmwareVersion).executeTakeFirst();
      if (old) {
        await trx.deleteFrom('vuln_match').where('model', '=', fw.model).where('firmware_version', '=', fw.firmwareVersion).execute();
        const ids = (await trx.selectFrom('vuln_component').select('id').where('sbom_id', '=', old.id).execute()).map((r) => r.id);
        for (const part of chunks(ids)) await trx.deleteFrom('vuln_component_key').where('component_id', 'in', part).execute();
        await trx.deleteFrom('vuln_component').where('sbom_id', '=', old.id).execute();
        await trx.deleteFrom('vuln_sbom').where('id', '=', old.id).execute();
      }
      await trx.insertInto('vuln_sbom').values({ id: sbomId, model: fw.model, firmware_version: fw.firmwareVersion, format: doc.format, spec_version: doc.specVersion, document_name: doc.name, component_count: doc.components.length, imported_at: this.#clock.nowMs(), imported_by: opts.actor }).execute();
      const rows = doc.components.map((c) => ({
        id: newId('cmp'), sbom_id: sbomId, model: fw.model, firmware_version: fw.firmwareVersion, ref: c.ref, component_type: c.type, name: c.name, version: c.version,
        purl: c.purl, cpe: c.cpe, supplier: c.supplier, support_level: c.supportLevel, end_of_support: c.endOfSupport, end_of_support_at: c.endOfSupportAtMs,
      }));
      for (const part of chunks(rows, 100)) await trx.insertInto('vuln_component').values(part).execute();
      const keys = rows.flatMap((r) => toMatchable(r).keys.map((k) => ({ component_id: r.id, package_key: k })));
      for (const part of chunks(keys)) await trx.insertInto('vuln_component_key').values(part).execute();
      return this.matches.rematchFirmware(trx, fw);
    });
    await this.#audit.append({ actor: opts.actor, action: 'sbom.import', target: `${opts.model}@${opts.firmwareVersion}`, tenantId: opts.tenantId ?? null, details: { sbomId, format: doc.format, specVersion: doc.specVersion, components: doc.components.length, replaced: true, matches } });
    return { sbomId, format: doc.format, specVersion: doc.specVersion, components: doc.components.length, matches };
  }

  /** The stored SBOM of a firmware as CycloneDX 1.6 JSON. */
  async exportSbom(fw: Firmware): Promise<string> {
    const sbom = await this.#db.selectFrom('vuln_sbom').select('id').where('model', '=', fw.model).where('firmware_version', '=', fw.firmwareVersion).executeTakeFirst();
    if (!sbom) throw new VulnError('SBOM_NOT_FOUND', `no SBOM for ${fw.model} ${fw.firmwareVersion}`);
    const rows = await this.#db.selectFrom('vuln_component').selectAll().where('sbom_id', '=', sbom.id).orderBy('ref').execute();
    return exportCycloneDx16({
      model: fw.model, firmwareVersion: fw.firmwareVersion, timestamp: new Date(this.#clock.nowMs()),
      components: rows.map((r) => ({ ref: r.ref, type: r.component_type, name: r.name, version: r.version, purl: r.purl, cpe: r.cpe, supplier: r.supplier, supportLevel: r.support_level, endOfSupport: r.end_of_support, endOfSupportAtMs: r.end_of_support_at === null ? null : Number(r.end_of_support_at) })),
    });
  }

  /** Stores a parsed feed batch (advisories incrementally by modified date, KEV, EPSS) and re-matches. */
  async importFeed(batch: FeedBatch, actor: string): Promise<FeedImportReport> {
    const report = await storeFeedBatch(this.#db, this.#clock, this.matches, batch);
    await this.#audit.append({ actor, action: 'feed.import', details: { advisories: report.advisories, kev: report.kev, epss: report.epss, rejected: report.rejected.length, rematch: report.rematch } });
    return report;
  }

  /** FDA 524B evidence (SBOMs, vulnerabilities, disclosure-to-patch-to-deployed times, end of support). */
  async fda524bReport(): Promise<Fda524bReport> {
    return buildFda524bReport(this.#db, this.#clock.nowMs());
  }

  /** Records clinical criticality, exposure and end of support of a model (risk inputs). */
  async setModelProfile(model: string, p: { criticality: string; exposure: string; endOfSupportAtMs?: number | null }, actor: string): Promise<void> {
    if (!(CRITICALITIES as readonly string[]).includes(p.criticality) || !(EXPOSURES as readonly string[]).includes(p.exposure)) throw new VulnError('MODEL_PROFILE_INVALID', 'unknown criticality or exposure', { details: { criticality: p.criticality, exposure: p.exposure } });
    const row = { criticality: p.criticality, exposure: p.exposure, end_of_support_at: p.endOfSupportAtMs ?? null, updated_at: this.#clock.nowMs() };
    await this.#db.transaction().execute(async (trx) => {
      await trx.deleteFrom('vuln_model_profile').where('model', '=', model).execute();
      await trx.insertInto('vuln_model_profile').values({ model, ...row }).execute();
    });
    await this.#audit.append({ actor, action: 'vuln.model-profile.set', target: model, details: { criticality: p.criticality, exposure: p.exposure } });
  }

  async #profile(model: string): Promise<RiskProfile> {
    const r = await this.#db.selectFrom('vuln_model_profile').selectAll().where('model', '=', model).executeTakeFirst();
    if (!r) return { ...derivedProfile(model), endOfSupportAtMs: null, defaulted: true };
    return { criticality: r.criticality as Criticality, exposure: r.exposure as Exposure, endOfSupportAtMs: r.end_of_support_at === null ? null : Number(r.end_of_support_at), defaulted: false };
  }

  /** Vulnerabilities of one firmware, aliases merged, with KEV and EPSS. */
  async firmwareVulnerabilities(fw: Firmware): Promise<FirmwareVulnerability[]> {
    const rows = await this.#db.selectFrom('vuln_match as m').innerJoin('vuln_component as c', 'c.id', 'm.component_id').innerJoin('vuln_advisory as a', 'a.id', 'm.advisory_id')
      .select(['m.vuln_id', 'm.status', 'm.reason', 'm.fixed_version', 'm.advisory_id', 'c.name', 'c.version', 'c.purl', 'c.cpe', 'a.aliases', 'a.summary', 'a.cvss31_vector', 'a.cvss40_vector'])
      .where('m.model', '=', fw.model).where('m.firmware_version', '=', fw.firmwareVersion).orderBy('m.vuln_id').orderBy('c.name').execute();
    const byVuln = new Map<string, FirmwareVulnerability>();
    for (const r of rows) {
      let v = byVuln.get(r.vuln_id);
      if (!v) {
        v = { vulnId: r.vuln_id, status: 'unknown', advisories: [], aliases: [], summary: r.summary, cvss31Vector: null, cvss40Vector: null, kev: false, epss: null, analysis: null, components: [] };
        byVuln.set(r.vuln_id, v);
      }
      const status = r.status === 'affected' ? 'affected' : 'unknown';
      if (status === 'affected') (v as { status: string }).status = 'affected';
      if (!v.advisories.includes(r.advisory_id)) v.advisories.push(r.advisory_id);
      for (const al of [r.advisory_id.slice(r.advisory_id.indexOf(':') + 1), ...(JSON.parse(r.aliases) as string[])]) if (al !== r.vuln_id && !v.aliases.includes(al)) v.aliases.push(al);
      Object.assign(v, { cvss31Vector: v.cvss31Vector ?? r.cvss31_vector, cvss40Vector: v.cvss40Vector ?? r.cvss40_vector, summary: v.summary || r.summary });
      v.components.push({ name: r.name, version: r.version, purl: r.purl, cpe: r.cpe, status, reason: r.reason, fixedVersion: r.fixed_version, advisoryId: r.advisory_id });
    }
    const list = [...byVuln.values()];
    // Scores may come from the NVD record of the same CVE even when the match came from OSV.
    const ids = list.map((v) => v.vulnId);
    const kev = new Set<string>();
    const epss = new Map<string, number>();
    const nvd = new Map<string, { v31: string | null; v40: string | null }>();
    for (const part of chunks(ids)) {
      for (const r of await this.#db.selectFrom('vuln_kev').select('cve_id').where('cve_id', 'in', part).execute()) kev.add(r.cve_id);
      for (const r of await this.#db.selectFrom('vuln_epss').select(['cve_id', 'epss']).where('cve_id', 'in', part).execute()) epss.set(r.cve_id, Number(r.epss));
      for (const r of await this.#db.selectFrom('vuln_advisory').select(['vuln_id', 'cvss31_vector', 'cvss40_vector']).where('vuln_id', 'in', part).execute()) {
        const cur = nvd.get(r.vuln_id);
        nvd.set(r.vuln_id, { v31: cur?.v31 ?? r.cvss31_vector, v40: cur?.v40 ?? r.cvss40_vector });
      }
    }
    const vex = new Map((await this.#db.selectFrom('vuln_vex').select(['vuln_id', 'status', 'justification', 'detail']).where('model', '=', fw.model).where('firmware_version', '=', fw.firmwareVersion).execute()).map((r) => [r.vuln_id, { status: r.status, justification: r.justification, detail: r.detail }]));
    return list.map((v) => ({ ...v, analysis: vex.get(v.vulnId) ?? null, kev: kev.has(v.vulnId), epss: epss.get(v.vulnId) ?? null, cvss31Vector: v.cvss31Vector ?? nvd.get(v.vulnId)?.v31 ?? null, cvss40Vector: v.cvss40Vector ?? nvd.get(v.vulnId)?.v40 ?? null }));
  }

  #scoped<O>(q: SelectQueryBuilder<Database, 'device', O>, scope: VulnScope): SelectQueryBuilder<Database, 'device', O> {
    switch (scope.kind) {
      case 'all':
        return q;
      case 'tenant':
        return q.where('device.tenant_id', '=', scope.tenantId);
      case 'site':
        return q.where('device.site_id', '=', scope.siteId);
      default:
        return scope satisfies never;
    }
  }

  /** A device's exposure (its current firmware's vulnerabilities) and risk, within the caller's scope. */
  async deviceExposure(deviceId: string, scope: VulnScope): Promise<DeviceExposure> {
    const d = await this.#scoped(this.#db.selectFrom('device').select(['device.id', 'device.model', 'device.firmware_version', 'device.site_id']).where('device.id', '=', deviceId), scope).executeTakeFirst();
    // Another tenant's device is reported exactly like a missing one (no existence oracle).
    if (!d) throw new VulnError('VULN_DEVICE_NOT_FOUND', 'no such device');
    const vulns = d.firmware_version === null ? [] : await this.firmwareVulnerabilities({ model: d.model, firmwareVersion: d.firmware_version });
    const now = this.#clock.nowMs();
    const pastEos = d.firmware_version === null ? 0 : Number((await this.#db.selectFrom('vuln_component').select((eb) => eb.fn.countAll().as('n'))
      .where('model', '=', d.model).where('firmware_version', '=', d.firmware_version).where('end_of_support_at', '<=', now).executeTakeFirst())?.n ?? 0);
    // VEX: what the manufacturer analysed as not affected, or fixed, does not count toward risk.
    const affected = vulns.filter((v) => v.status === 'affected' && v.analysis?.status !== 'not_affected' && v.analysis?.status !== 'fixed');
    const risk = deviceRisk(affected, await this.#profile(d.model), pastEos, now);
    return { deviceId: d.id, model: d.model, firmwareVersion: d.firmware_version, siteId: d.site_id, vulnerabilities: vulns, risk };
  }

  /** Fleet view: per firmware in scope, devices on it and its affected/unknown vulnerability counts. */
  async fleetSummary(scope: VulnScope): Promise<Array<{ model: string; firmwareVersion: string; devices: number; affected: number; unknown: number; kev: number }>> {
    const fleet = await this.#scoped(this.#db.selectFrom('device').select(['device.model', 'device.firmware_version', (eb) => eb.fn.countAll().as('n')]).where('device.firmware_version', 'is not', null).groupBy(['device.model', 'device.firmware_version']), scope).execute();
    const out = [];
    for (const f of fleet) {
      const fw = { model: f.model, firmwareVersion: f.firmware_version as string };
      const vulns = await this.firmwareVulnerabilities(fw);
      out.push({ ...fw, devices: Number(f.n), affected: vulns.filter((v) => v.status === 'affected').length, unknown: vulns.filter((v) => v.status === 'unknown').length, kev: vulns.filter((v) => v.kev && v.status === 'affected').length });
    }
    return out;
  }

  /**
   * Site view: per site in scope (null: devices not placed at a site), how many devices it has,
   * how many run a firmware with an affected vulnerability, a KEV-listed one, or one not yet decided.
   */
  async siteSummary(scope: VulnScope): Promise<Array<{ siteId: string | null; siteName: string | null; devices: number; affected: number; kev: number; unknown: number }>> {
    const fleet = await this.#scoped(this.#db.selectFrom('device').leftJoin('tenant as site', 'site.id', 'device.site_id')
      .select(['device.site_id', 'site.name', 'device.model', 'device.firmware_version', (eb) => eb.fn.countAll().as('n')])
      .where('device.state', '!=', 'decommissioned')
      .groupBy(['device.site_id', 'site.name', 'device.model', 'device.firmware_version']), scope).execute();
    const standing = new Map<string, { affected: boolean; kev: boolean; unknown: boolean }>();
    const sites = new Map<string, { siteId: string | null; siteName: string | null; devices: number; affected: number; kev: number; unknown: number }>();
    for (const f of fleet) {
      const key = f.site_id ?? '';
      const site = sites.get(key) ?? { siteId: f.site_id, siteName: f.name, devices: 0, affected: 0, kev: 0, unknown: 0 };
      sites.set(key, site);
      const n = Number(f.n);
      site.devices += n;
      if (f.firmware_version === null) continue;
      const fwKey = `${f.model}\u0000${f.firmware_version}`;
      let st = standing.get(fwKey);
      if (!st) {
        const v = await this.firmwareVulnerabilities({ model: f.model, firmwareVersion: f.firmware_version });
        st = { affected: v.some((x) => x.status === 'affected'), kev: v.some((x) => x.status === 'affected' && x.kev), unknown: v.some((x) => x.status === 'unknown') };
        standing.set(fwKey, st);
      }
      if (st.affected) site.affected += n;
      if (st.kev) site.kev += n;
      if (st.unknown) site.unknown += n;
    }
    return [...sites.values()].sort((a, b) => (a.siteName ?? '\uffff').localeCompare(b.siteName ?? '\uffff'));
  }

  /** Devices in scope running a firmware (for "which devices are exposed"). */
  async devicesOn(fw: Firmware, scope: VulnScope): Promise<Array<{ id: string; siteId: string | null }>> {
    const rows = await this.#scoped(this.#db.selectFrom('device').select(['device.id', 'device.site_id']).where('device.model', '=', fw.model).where('device.firmware_version', '=', fw.firmwareVersion), scope).execute();
    return rows.map((r) => ({ id: r.id, siteId: r.site_id }));
  }
}
