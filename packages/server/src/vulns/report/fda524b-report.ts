import type { Kysely } from 'kysely';
import type { Database } from '../../db/index.ts';
import { compareGeneric } from '../version/index.ts';

const DAY_MS = 86_400_000;

export interface Fda524bReport {
  readonly generatedAt: string;
  readonly firmwares: Array<{ model: string; firmwareVersion: string; format: string; importedAt: string; components: Array<{ name: string; version: string | null; purl: string | null; cpe: string | null; supplier: string | null; supportLevel: string | null; endOfSupport: string | null }> }>;
  readonly vulnerabilities: Array<{ vulnId: string; model: string; firmwareVersion: string; status: string; vex: string | null; kev: boolean; disclosedAt: string | null; patchAvailableAt: string | null; deployedAt: string | null; daysToPatch: number | null; daysToDeploy: number | null }>;
  readonly medians: { readonly daysToPatch: number | null; readonly daysToDeploy: number | null };
  readonly devicesPastEndOfSupport: Array<{ deviceId: string; model: string; endOfSupport: string }>;
  /** Update campaigns (the patches deployed), emergency ones marked, with each device's reported status. */
  readonly updateCampaigns: Array<{
    campaignId: string; name: string; releaseId: string; version: string; models: string[]; emergency: boolean; state: string;
    createdAt: string; createdBy: string; updatedAt: string; pausedReason: string | null;
    counts: Record<string, number>;
    devices: Array<{ deviceId: string; status: string; detail: string | null; updatedAt: string }>;
  }>;
}

const DEVICE_STATUSES = ['pending', 'downloading', 'installing', 'installed', 'failed', 'rolled-back'] as const;

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/**
 * FDA 524B evidence: SBOM per firmware with support level and end of support, known
 * vulnerabilities and status, disclosure -> patch available -> deployed times and their medians,
 * devices past end of support. "Patch available" is when the SBOM of the first later firmware of
 * the model without the vulnerability was imported; "deployed" is when the last device left the
 * affected firmware (the device's last update time), only once none remains on it. Update campaigns
 * (emergency ones marked) with every device's reported status.
 */
export async function buildFda524bReport(db: Kysely<Database>, nowMs: number): Promise<Fda524bReport> {
  const sboms = await db.selectFrom('vuln_sbom').selectAll().orderBy('model').orderBy('firmware_version').execute();
  const firmwares = [];
  for (const s of sboms) {
    const cs = await db.selectFrom('vuln_component').select(['name', 'version', 'purl', 'cpe', 'supplier', 'support_level', 'end_of_support']).where('sbom_id', '=', s.id).orderBy('name').execute();
    firmwares.push({ model: s.model, firmwareVersion: s.firmware_version, format: `${s.format} ${s.spec_version}`, importedAt: iso(Number(s.imported_at)) as string, components: cs.map((c) => ({ name: c.name, version: c.version, purl: c.purl, cpe: c.cpe, supplier: c.supplier, supportLevel: c.support_level, endOfSupport: c.end_of_support })) });
  }
  const matches = await db.selectFrom('vuln_match').select(['vuln_id', 'model', 'firmware_version', 'status']).distinct().execute();
  const affectedKey = new Set(matches.filter((m) => m.status === 'affected').map((m) => `${m.vuln_id}\u0000${m.model}\u0000${m.firmware_version}`));
  const vex = new Map((await db.selectFrom('vuln_vex').select(['vuln_id', 'model', 'firmware_version', 'status']).execute()).map((v) => [`${v.vuln_id}\u0000${v.model}\u0000${v.firmware_version}`, v.status]));
  const kev = new Set((await db.selectFrom('vuln_kev').select('cve_id').execute()).map((k) => k.cve_id));
  const published = new Map<string, number>();
  for (const a of await db.selectFrom('vuln_advisory').select(['vuln_id', 'published_at']).where('published_at', 'is not', null).execute()) {
    const p = Number(a.published_at);
    if (!published.has(a.vuln_id) || p < (published.get(a.vuln_id) as number)) published.set(a.vuln_id, p);
  }
  const seen = new Set<string>();
  const vulnerabilities: Fda524bReport['vulnerabilities'] = [];
  for (const m of matches) {
    const key = `${m.vuln_id}\u0000${m.model}\u0000${m.firmware_version}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const status = affectedKey.has(key) ? 'affected' : 'unknown';
    const disclosed = published.get(m.vuln_id) ?? null;
    const fix = sboms.filter((s) => s.model === m.model && compareGeneric(s.firmware_version, m.firmware_version) > 0 && !affectedKey.has(`${m.vuln_id}\u0000${s.model}\u0000${s.firmware_version}`))
      .sort((a, b) => compareGeneric(a.firmware_version, b.firmware_version))[0];
    const patchAt = fix ? Number(fix.imported_at) : null;
    let deployedAt: number | null = null;
    if (fix) {
      const remaining = await db.selectFrom('device').select('id').where('model', '=', m.model).where('firmware_version', '=', m.firmware_version).executeTakeFirst();
      if (!remaining) {
        const last = await db.selectFrom('device').select((eb) => eb.fn.max('updated_at').as('t')).where('model', '=', m.model).where('firmware_version', '=', fix.firmware_version).executeTakeFirst();
        deployedAt = last?.t === null || last?.t === undefined ? null : Number(last.t);
      }
    }
    const days = (from: number | null, to: number | null): number | null => (from === null || to === null ? null : Math.round(((to - from) / DAY_MS) * 10) / 10);
    vulnerabilities.push({ vulnId: m.vuln_id, model: m.model, firmwareVersion: m.firmware_version, status, vex: vex.get(key) ?? null, kev: kev.has(m.vuln_id), disclosedAt: iso(disclosed), patchAvailableAt: iso(patchAt), deployedAt: iso(deployedAt), daysToPatch: days(disclosed, patchAt), daysToDeploy: days(disclosed, deployedAt) });
  }
  vulnerabilities.sort((a, b) => a.vulnId.localeCompare(b.vulnId) || a.model.localeCompare(b.model) || compareGeneric(a.firmwareVersion, b.firmwareVersion));
  const past = await db.selectFrom('device').innerJoin('vuln_model_profile as p', 'p.model', 'device.model').select(['device.id', 'device.model', 'p.end_of_support_at'])
    .where('p.end_of_support_at', '<=', nowMs).where('device.state', '!=', 'decommissioned').orderBy('device.id').execute();
  const affected = vulnerabilities.filter((v) => v.status === 'affected');
  const updateCampaigns: Fda524bReport['updateCampaigns'] = [];
  const campaigns = await db.selectFrom('campaign').innerJoin('release', 'release.id', 'campaign.release_id')
    .select(['campaign.id', 'campaign.name', 'campaign.release_id', 'release.version', 'campaign.emergency', 'campaign.state', 'campaign.created_at', 'campaign.created_by', 'campaign.updated_at', 'campaign.paused_reason'])
    .orderBy('campaign.created_at').orderBy('campaign.id').execute();
  for (const c of campaigns) {
    const models = (await db.selectFrom('release_model').select('model').where('release_id', '=', c.release_id).orderBy('model').execute()).map((m) => m.model);
    const devices = await db.selectFrom('campaign_device').select(['device_id', 'status', 'detail', 'updated_at']).where('campaign_id', '=', c.id).orderBy('device_id').execute();
    const counts: Record<string, number> = Object.fromEntries(DEVICE_STATUSES.map((st) => [st, 0]));
    for (const d of devices) counts[d.status] = (counts[d.status] ?? 0) + 1;
    updateCampaigns.push({
      campaignId: c.id, name: c.name, releaseId: c.release_id, version: c.version, models, emergency: Number(c.emergency) === 1, state: c.state,
      createdAt: iso(Number(c.created_at)) as string, createdBy: c.created_by, updatedAt: iso(Number(c.updated_at)) as string, pausedReason: c.paused_reason, counts,
      devices: devices.map((d) => ({ deviceId: d.device_id, status: d.status, detail: d.detail, updatedAt: iso(Number(d.updated_at)) as string })),
    });
  }
  return {
    generatedAt: new Date(nowMs).toISOString(), firmwares, vulnerabilities,
    medians: { daysToPatch: median(affected.map((v) => v.daysToPatch).filter((x): x is number => x !== null)), daysToDeploy: median(affected.map((v) => v.daysToDeploy).filter((x): x is number => x !== null)) },
    devicesPastEndOfSupport: past.map((d) => ({ deviceId: d.id, model: d.model, endOfSupport: iso(Number(d.end_of_support_at)) as string })),
    updateCampaigns,
  };
}

const MAX_LISTED = 200;

const cell = (x: string | number | null | undefined): string => (x === null || x === undefined || x === '' ? '-' : String(x).replace(/\|/g, '\\|').replace(/\n/g, ' '));

/** The same report as Markdown for the premarket submission. */
export function renderFda524bMarkdown(r: Fda524bReport): string {
  const out = [`# FDA 524B cybersecurity evidence`, '', `Generated ${r.generatedAt} by MedTrust.`, '', '## Software bill of materials per firmware', ''];
  for (const f of r.firmwares) {
    out.push(`### ${f.model} ${f.firmwareVersion} (${f.format}, imported ${f.importedAt})`, '', '| component | version | supplier | support level | end of support | identifier |', '|---|---|---|---|---|---|');
    for (const c of f.components) out.push(`| ${cell(c.name)} | ${cell(c.version)} | ${cell(c.supplier)} | ${cell(c.supportLevel)} | ${cell(c.endOfSupport)} | ${cell(c.purl ?? c.cpe)} |`);
    out.push('');
  }
  out.push('## Known vulnerabilities', '', '| vulnerability | firmware | status | VEX | KEV | disclosed | patch available | deployed | days to patch | days to deploy |', '|---|---|---|---|---|---|---|---|---|---|');
  for (const v of r.vulnerabilities) out.push(`| ${cell(v.vulnId)} | ${cell(`${v.model} ${v.firmwareVersion}`)} | ${v.status} | ${cell(v.vex)} | ${v.kev ? 'yes' : 'no'} | ${cell(v.disclosedAt?.slice(0, 10))} | ${cell(v.patchAvailableAt?.slice(0, 10))} | ${cell(v.deployedAt?.slice(0, 10))} | ${cell(v.daysToPatch)} | ${cell(v.daysToDeploy)} |`);
  out.push('', `Median days from disclosure to patch available: ${cell(r.medians.daysToPatch)}; to deployed: ${cell(r.medians.daysToDeploy)} (affected only).`, '', '## Devices past end of support', '');
  if (r.devicesPastEndOfSupport.length === 0) out.push('None.');
  for (const d of r.devicesPastEndOfSupport) out.push(`- ${d.deviceId} (${d.model}), end of support ${d.endOfSupport.slice(0, 10)}`);
  out.push('', '## Update campaigns', '');
  if (r.updateCampaigns.length === 0) out.push('None.');
  else {
    out.push('| campaign | release | kind | state | started | by | installed | pending | in progress | failed | rolled back |', '|---|---|---|---|---|---|---|---|---|---|---|');
    for (const c of r.updateCampaigns) {
      const n = c.counts;
      out.push(`| ${cell(c.name)} (${c.campaignId}) | ${cell(`${c.models.join(', ')} ${c.version}`)} | ${c.emergency ? '**EMERGENCY**' : 'regular'} | ${cell(c.pausedReason ? `${c.state}: ${c.pausedReason}` : c.state)} | ${c.createdAt.slice(0, 16)}Z | ${cell(c.createdBy)} | ${n.installed ?? 0} | ${n.pending ?? 0} | ${(n.downloading ?? 0) + (n.installing ?? 0)} | ${n.failed ?? 0} | ${n['rolled-back'] ?? 0} |`);
    }
    // Every device's status is in the JSON; the Markdown names the devices that did not install.
    const unsuccessful = r.updateCampaigns.flatMap((c) => c.devices.filter((d) => d.status === 'failed' || d.status === 'rolled-back').map((d) => ({ ...d, campaign: c.name })));
    if (unsuccessful.length > 0) {
      out.push('', 'Devices that failed or rolled back (every device\'s status is in fda524b.json):', '');
      for (const d of unsuccessful.slice(0, MAX_LISTED)) out.push(`- ${d.deviceId}: ${d.status}${d.detail ? ` (${d.detail})` : ''} in ${d.campaign}, ${d.updatedAt.slice(0, 16)}Z`);
      if (unsuccessful.length > MAX_LISTED) out.push(`- ... and ${unsuccessful.length - MAX_LISTED} more`);
    }
  }
  return `${out.join('\n')}\n`;
}
