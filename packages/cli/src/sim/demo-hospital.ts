import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_THRESHOLD_RULES, type Platform, readFeedPaths } from '@medtrust/server';

export const DEMO_HOSPITAL = 'St. Demo Hospital';
/** The pump firmware the demo SBOM shows as vulnerable (OpenSSL 1.0.1f: Heartbleed). */
export const VULNERABLE_PUMP_FIRMWARE = '3.1.0';
export const PUMP_MODEL = 'InfuSim-P300';

const here = (rel: string): string => new URL(rel, import.meta.url).pathname;
// Real published records the vulnerability domain's tests use (packages/server/src/vulns/fixtures/SOURCES.md).
const VULN_FIXTURES = ['nvd/CVE-2014-0160.json', 'kev/kev-subset.json', 'epss/epss_scores-excerpt.csv'].map((f) => here(`../../../server/src/vulns/fixtures/${f}`));
const DRUG_LIBRARY = here('../../../server/src/clinical/fixtures/icu-drug-library.csv');
const SBOMS: ReadonlyArray<{ version: string; file: string }> = [
  { version: VULNERABLE_PUMP_FIRMWARE, file: here('./fixtures/infusim-p300-3.1.0.cdx.json') },
  { version: '3.2.1', file: here('./fixtures/infusim-p300-3.2.1.cdx.json') },
];

export interface DemoHospital {
  readonly tenantId: string;
  /** Bearer token of a clinician in the hospital tenant (file, 0600). */
  readonly clinicianTokenFile: string;
  readonly clinicianToken: string;
  /** Dashboard logins created on the first run (file, 0600). */
  readonly loginsFile: string;
}

/**
 * The hospital tenant with what a care unit needs before devices report: the ICU drug library,
 * the default alarm rules, a clinician and a biomed login, and a clinician API token. Idempotent.
 */
export async function setUpHospital(p: Platform, dir: string): Promise<DemoHospital> {
  const s = p.services;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tenantId = (await s.tenants.list()).find((t) => t.kind === 'customer' && t.name === DEMO_HOSPITAL)?.id
    ?? await s.tenants.create({ kind: 'customer', name: DEMO_HOSPITAL, timeZone: 'Europe/London', createdBy: 'demo' });
  if (!(await s.clinical.drugLibraries.active(tenantId))) await s.clinical.drugLibraries.import(tenantId, readFileSync(DRUG_LIBRARY, 'utf8'), 'csv', 'demo');
  if ((await s.clinical.alertRules.forTenant(tenantId)).length === 0) {
    for (const r of DEFAULT_THRESHOLD_RULES) await s.clinical.alertRules.create(tenantId, { ...r, enabled: true, scope: {}, escalateAfterMs: 120_000, escalationRoles: ['clinician', 'hospital-admin'] }, 'demo');
  }
  const loginsFile = join(dir, 'logins.txt');
  if (!existsSync(loginsFile)) {
    const lines = ['# dashboard logins of the demo hospital (email password role)'];
    for (const [email, role] of [['nurse@demo-hospital.example', 'clinician'], ['biomed@demo-hospital.example', 'hospital-admin']] as const) {
      const u = await s.users.create({ tenantId, email, role, createdBy: 'demo' });
      lines.push(`${email} ${u.password ?? '(set before)'} ${role}`);
    }
    writeFileSync(loginsFile, `${lines.join('\n')}\n`, { mode: 0o600 });
  }
  const token = await s.tokens.create({ tenantId, role: 'clinician', name: 'demo clinician', ttlDays: 7, createdBy: 'demo' });
  const clinicianTokenFile = join(dir, 'clinician-token');
  writeFileSync(clinicianTokenFile, `${token.token}\n`, { mode: 0o600 });
  return { tenantId, clinicianTokenFile, clinicianToken: token.token, loginsFile };
}

/** The pump's SBOMs and the advisories that concern them (NVD, CISA KEV, EPSS); returns what the old firmware is exposed to. */
export async function importVulnerabilities(p: Platform): Promise<string[]> {
  const s = p.services;
  await s.vulns.importFeed(readFeedPaths(VULN_FIXTURES), 'demo');
  for (const x of SBOMS) await s.vulns.importSbom({ model: PUMP_MODEL, firmwareVersion: x.version, text: readFileSync(x.file, 'utf8'), actor: 'demo' });
  const vulns = await s.vulns.firmwareVulnerabilities({ model: PUMP_MODEL, firmwareVersion: VULNERABLE_PUMP_FIRMWARE });
  return [...new Set(vulns.filter((v) => v.status === 'affected').map((v) => `${v.vulnId}${v.kev ? ' (CISA KEV)' : ''}`))];
}

/** Fictional patients; each bound to devices from `fromMs` so backfilled readings are theirs. */
export async function admitPatients(p: Platform, tenantId: string, admissions: ReadonlyArray<{ mrn: string; family: string; given: string; birthDate: string; deviceIds: readonly string[] }>, fromMs: number): Promise<number> {
  const s = p.services;
  let bound = 0;
  for (const a of admissions) {
    const id = await s.clinical.patients.findByMrn(tenantId, a.mrn) ?? (await s.clinical.patients.create(tenantId, { mrn: a.mrn, family: a.family, given: [a.given], birthDate: a.birthDate }, 'demo')).id;
    for (const deviceId of a.deviceIds) {
      try {
        await s.clinical.patients.bind(tenantId, id, deviceId, 'demo', fromMs);
        bound++;
      } catch (e) {
        // A rerun: the device is still bound from the first one.
        if ((e as { code?: string }).code !== 'BINDING_CONFLICT') throw e;
      }
    }
  }
  return bound;
}

/**
 * A stuck key: a clinician (through the REST API, as the dashboard would) asks for ten times the
 * running heparin dose; the drug library's hard limit refuses it. Returns the refusal as recorded.
 */
export async function pressStuckKey(o: { httpUrl: string; token: string; deviceId: string; runningDose: number }): Promise<{ status: number; code: string | undefined; commandId: string | undefined }> {
  const res = await fetch(`${o.httpUrl}/api/v1/devices/${o.deviceId}/commands`, {
    method: 'POST', headers: { authorization: `Bearer ${o.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ careArea: 'ICU', command: { kind: 'infusion.change-rate', dose: o.runningDose * 10 } }),
  });
  const body = (await res.json()) as { error?: { code?: string; details?: { commandId?: string } } };
  return { status: res.status, code: body.error?.code, commandId: body.error?.details?.commandId };
}

/** A change the drug library allows; resolves once the pump reports it executed (or the status at the deadline). */
export async function changeRate(o: { httpUrl: string; token: string; deviceId: string; dose: number; timeoutMs: number }): Promise<{ status: number; commandStatus: string; commandId: string | undefined }> {
  const headers = { authorization: `Bearer ${o.token}`, 'content-type': 'application/json' };
  const res = await fetch(`${o.httpUrl}/api/v1/devices/${o.deviceId}/commands`, { method: 'POST', headers, body: JSON.stringify({ careArea: 'ICU', command: { kind: 'infusion.change-rate', dose: o.dose } }) });
  const body = (await res.json()) as { id?: string; status?: string };
  let commandStatus = body.status ?? 'unknown';
  const end = Date.now() + o.timeoutMs;
  while (body.id && commandStatus !== 'executed' && commandStatus !== 'failed' && commandStatus !== 'rejected' && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 200));
    commandStatus = ((await (await fetch(`${o.httpUrl}/api/v1/commands/${body.id}`, { headers })).json()) as { status: string }).status;
  }
  return { status: res.status, commandStatus, commandId: body.id };
}
