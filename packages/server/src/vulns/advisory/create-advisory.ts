import type { Kysely } from 'kysely';
import type { Database } from '../../db/index.ts';
import { VulnError } from '../errors.ts';
import type { CsafPublisher } from '../vex/export-csaf-vex.ts';
import { validateCsaf } from '../vex/validate-csaf.ts';
import { compareGeneric } from '../version/index.ts';
import { buildCsafAdvisory, type FirmwareStanding } from './build-csaf-advisory.ts';

export interface CreatedAdvisory {
  readonly csaf: Record<string, unknown>;
  readonly standings: readonly FirmwareStanding[];
  /** Tenants with at least one device on a known_affected firmware: who must be told. */
  readonly affectedTenants: readonly string[];
}

/**
 * Builds the CSAF 2.0 security advisory of one vulnerability from the stored matches and VEX
 * analyses, and refuses to return it (CSAF_INVALID) unless csaf-validator-lib accepts it.
 */
export async function createAdvisory(db: Kysely<Database>, opts: { vulnId: string; publisher: CsafPublisher; now: Date }): Promise<CreatedAdvisory> {
  const matches = await db.selectFrom('vuln_match').select(['model', 'firmware_version', 'status']).where('vuln_id', '=', opts.vulnId).execute();
  if (matches.length === 0) throw new VulnError('VULN_NOT_FOUND', `no firmware matches ${opts.vulnId}`);
  const models = [...new Set(matches.map((m) => m.model))];
  const firmwares = await db.selectFrom('vuln_sbom').select(['model', 'firmware_version']).where('model', 'in', models).execute();
  const vex = new Map((await db.selectFrom('vuln_vex').select(['model', 'firmware_version', 'status']).where('vuln_id', '=', opts.vulnId).execute()).map((v) => [`${v.model}\u0000${v.firmware_version}`, v.status]));
  const matchOf = new Map<string, string>();
  for (const m of matches) {
    const k = `${m.model}\u0000${m.firmware_version}`;
    if (matchOf.get(k) !== 'affected') matchOf.set(k, m.status);
  }
  const standings: Array<{ model: string; firmwareVersion: string; status: FirmwareStanding['status'] }> = firmwares.map((f) => {
    const k = `${f.model}\u0000${f.firmware_version}`;
    const v = vex.get(k);
    // The manufacturer's VEX analysis overrides what the matcher found.
    if (v === 'not_affected') return { model: f.model, firmwareVersion: f.firmware_version, status: 'known_not_affected' };
    if (v === 'fixed') return { model: f.model, firmwareVersion: f.firmware_version, status: 'fixed' };
    if (v === 'affected') return { model: f.model, firmwareVersion: f.firmware_version, status: 'known_affected' };
    if (v === 'under_investigation') return { model: f.model, firmwareVersion: f.firmware_version, status: 'under_investigation' };
    const m = matchOf.get(k);
    if (m === 'affected') return { model: f.model, firmwareVersion: f.firmware_version, status: 'known_affected' };
    if (m === 'unknown') return { model: f.model, firmwareVersion: f.firmware_version, status: 'under_investigation' };
    return { model: f.model, firmwareVersion: f.firmware_version, status: 'known_not_affected' };
  });
  // A clean firmware newer than an affected one of the same model is the fix.
  const final: FirmwareStanding[] = standings.map((s): FirmwareStanding => {
    if (s.status === 'known_not_affected' && standings.some((o) => o.model === s.model && o.status === 'known_affected' && compareGeneric(o.firmwareVersion, s.firmwareVersion) < 0)) return { ...s, status: 'fixed', fixedBy: null };
    return { ...s, fixedBy: null };
  }).map((s, _i, all): FirmwareStanding => {
    if (s.status !== 'known_affected') return s;
    const fix = all.filter((o) => o.model === s.model && o.status === 'fixed' && compareGeneric(o.firmwareVersion, s.firmwareVersion) > 0).sort((x, y) => compareGeneric(x.firmwareVersion, y.firmwareVersion))[0];
    return { ...s, fixedBy: fix?.firmwareVersion ?? null };
  }).sort((x, y) => x.model.localeCompare(y.model) || compareGeneric(x.firmwareVersion, y.firmwareVersion));
  const adv = await db.selectFrom('vuln_advisory').select(['summary', 'cvss31_vector']).where('vuln_id', '=', opts.vulnId).orderBy('source').execute();
  const kev = await db.selectFrom('vuln_kev').select(['cve_id', 'name']).where('cve_id', '=', opts.vulnId).executeTakeFirst();
  const summary = adv.find((a) => a.summary)?.summary ?? '';
  const csaf = buildCsafAdvisory({
    vulnId: opts.vulnId, title: `${kev?.name ?? opts.vulnId} in ${models.join(', ')}`, summary, cvss31Vector: adv.find((a) => a.cvss31_vector)?.cvss31_vector ?? null, kev: kev !== undefined,
    standings: final, publisher: opts.publisher, now: opts.now, trackingId: `MT-SA-${opts.vulnId}-${opts.now.toISOString().slice(0, 10)}`,
  });
  const findings = await validateCsaf(csaf);
  if (findings.length > 0) throw new VulnError('CSAF_INVALID', 'generated CSAF advisory failed validation', { details: { findings: findings.slice(0, 50) } });
  const affected = final.filter((s) => s.status === 'known_affected');
  const tenants = new Set<string>();
  for (const s of affected) {
    for (const d of await db.selectFrom('device').select('tenant_id').distinct().where('model', '=', s.model).where('firmware_version', '=', s.firmwareVersion).execute()) tenants.add(d.tenant_id);
  }
  return { csaf, standings: final, affectedTenants: [...tenants].sort() };
}
