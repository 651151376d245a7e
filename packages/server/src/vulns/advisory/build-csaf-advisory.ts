import cvss from 'ae-cvss-calculator';
import type { CsafPublisher } from '../vex/export-csaf-vex.ts';

// ae-cvss-calculator ships CommonJS; its named exports are only reachable from the default.
const { Cvss3P1 } = cvss;

/** Where one firmware stands for the vulnerability the advisory is about. */
export interface FirmwareStanding {
  readonly model: string;
  readonly firmwareVersion: string;
  readonly status: 'known_affected' | 'fixed' | 'known_not_affected' | 'under_investigation';
  /** For known_affected: the firmware version that fixes it, when one exists. */
  readonly fixedBy: string | null;
}

export interface AdvisoryInput {
  readonly vulnId: string;
  readonly title: string;
  readonly summary: string;
  readonly cvss31Vector: string | null;
  readonly kev: boolean;
  readonly standings: readonly FirmwareStanding[];
  readonly publisher: CsafPublisher;
  readonly now: Date;
  readonly trackingId: string;
}

const pid = (model: string, version: string): string => `CSAFPID-${model}-${version}`.replace(/\s+/g, '_');

function severity(score: number): string {
  return score === 0 ? 'NONE' : score < 4 ? 'LOW' : score < 7 ? 'MEDIUM' : score < 9 ? 'HIGH' : 'CRITICAL';
}

/**
 * A CSAF 2.0 security advisory (profile csaf_security_advisory, §4.4) for one vulnerability:
 * product tree of models x firmware versions, product status, the fixed firmware as vendor_fix,
 * and recommended actions for hospitals and for patients in the manner of an FDA safety
 * communication.
 */
export function buildCsafAdvisory(a: AdvisoryInput): Record<string, unknown> {
  const iso = a.now.toISOString();
  const byModel = new Map<string, FirmwareStanding[]>();
  for (const s of a.standings) byModel.set(s.model, [...(byModel.get(s.model) ?? []), s]);
  const ids = (st: FirmwareStanding['status']): string[] => a.standings.filter((s) => s.status === st).map((s) => pid(s.model, s.firmwareVersion));
  const productStatus = Object.fromEntries(Object.entries({ known_affected: ids('known_affected'), fixed: ids('fixed'), known_not_affected: ids('known_not_affected'), under_investigation: ids('under_investigation') }).filter(([, v]) => v.length > 0));
  const affected = a.standings.filter((s) => s.status === 'known_affected');
  const fixes = new Map<string, string[]>();
  for (const s of affected) fixes.set(s.fixedBy ?? '', [...(fixes.get(s.fixedBy ?? '') ?? []), pid(s.model, s.firmwareVersion)]);
  const remediations = [
    ...[...fixes.entries()].map(([fix, productIds]) => (fix
      ? { category: 'vendor_fix', details: `Update the firmware to ${fix} or later through the MedTrust update campaign.`, product_ids: productIds }
      : { category: 'none_available', details: 'No fixed firmware is available yet; apply the mitigations below.', product_ids: productIds })),
    ...(affected.length ? [{ category: 'mitigation', details: 'Keep affected devices on a segmented clinical network, block inbound connections from other networks, and monitor for unexpected device behaviour until the update is installed.', product_ids: affected.map((s) => pid(s.model, s.firmwareVersion)) }] : []),
  ];
  let scores: unknown[] = [];
  if (a.cvss31Vector?.startsWith('CVSS:3.1/') && affected.length) {
    try {
      const base = new Cvss3P1(a.cvss31Vector).calculateScores().base ?? 0;
      scores = [{ products: affected.map((s) => pid(s.model, s.firmwareVersion)), cvss_v3: { version: '3.1', vectorString: a.cvss31Vector, baseScore: base, baseSeverity: severity(base) } }];
    } catch { /* unparsable vector: the advisory goes out without a score */ }
  }
  const vuln: Record<string, unknown> = {
    ...(/^CVE-\d{4}-\d{4,}$/.test(a.vulnId) ? { cve: a.vulnId } : { ids: [{ system_name: a.vulnId.split('-')[0] ?? 'id', text: a.vulnId }] }),
    title: a.title,
    notes: [{ category: 'description', title: 'Description', text: a.summary || a.title }],
    product_status: productStatus,
    ...(remediations.length ? { remediations } : {}),
    ...(scores.length ? { scores } : {}),
    ...(a.kev ? { threats: [{ category: 'exploit_status', details: 'Listed in the CISA Known Exploited Vulnerabilities catalog: exploited in the wild.' }] } : {}),
  };
  return {
    document: {
      category: 'csaf_security_advisory', csaf_version: '2.0', lang: 'en',
      publisher: { category: 'vendor', name: a.publisher.name, namespace: a.publisher.namespace },
      title: a.title,
      distribution: { tlp: { label: 'WHITE' } },
      notes: [
        { category: 'summary', title: 'Summary', text: a.summary || a.title },
        { category: 'general', title: 'Recommended actions for hospitals', text: 'Identify affected devices with `medtrust vuln list` or the dashboard. Schedule the firmware update in a maintenance window when no therapy is running. Until then keep the devices on a segmented network and report unexpected behaviour to the manufacturer.' },
        { category: 'general', title: 'Recommended actions for patients', text: 'Keep using your device as prescribed: the benefit of the therapy outweighs this risk. Your care team will update the device. Contact them if the device behaves unexpectedly.' },
      ],
      references: [{ category: 'external', summary: `${a.vulnId} in the NVD`, url: `https://nvd.nist.gov/vuln/detail/${a.vulnId}` }],
      tracking: {
        id: a.trackingId, status: 'final', version: '1', initial_release_date: iso, current_release_date: iso,
        revision_history: [{ date: iso, number: '1', summary: 'Initial version.' }],
        generator: { engine: { name: 'MedTrust' }, date: iso },
      },
    },
    product_tree: {
      branches: [{
        category: 'vendor', name: a.publisher.name,
        branches: [...byModel.entries()].sort(([x], [y]) => x.localeCompare(y)).map(([model, ss]) => ({
          category: 'product_name', name: model,
          branches: ss.map((s) => ({ category: 'product_version', name: s.firmwareVersion, product: { product_id: pid(model, s.firmwareVersion), name: `${a.publisher.name} ${model} ${s.firmwareVersion}` } })),
        })),
      }],
    },
    vulnerabilities: [vuln],
  };
}
