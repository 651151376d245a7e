import type { VexRecord } from './vex-record.ts';

export interface CsafPublisher {
  readonly name: string;
  /** CSAF 2.0 §3.2.1.8.3: a URL naming the publisher's namespace. */
  readonly namespace: string;
}

const productId = (model: string, version: string): string => `CSAFPID-${model}-${version}`.replace(/\s+/g, '_');

/**
 * CSAF 2.0 VEX (profile csaf_vex, §4.5) for the analyses of one model: a product tree of
 * vendor > model > firmware versions, and per vulnerability the product status with the flag
 * (not_affected), impact (§6.1.27.9) or remediation (§6.1.27.10) the profile requires.
 */
export function exportCsafVex(opts: { model: string; records: readonly VexRecord[]; publisher: CsafPublisher; now: Date; trackingId: string }): Record<string, unknown> {
  const iso = opts.now.toISOString();
  const versions = [...new Set(opts.records.map((r) => r.firmwareVersion))].sort();
  const byVuln = new Map<string, VexRecord[]>();
  for (const r of opts.records) byVuln.set(r.vulnId, [...(byVuln.get(r.vulnId) ?? []), r]);
  const vulnerabilities = [...byVuln.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([vulnId, rs]) => {
    const ids = (s: VexRecord['status']): string[] => rs.filter((r) => r.status === s).map((r) => productId(r.model, r.firmwareVersion));
    const status = { known_not_affected: ids('not_affected'), known_affected: ids('affected'), fixed: ids('fixed'), under_investigation: ids('under_investigation') };
    const notAffected = rs.filter((r) => r.status === 'not_affected');
    const affected = rs.filter((r) => r.status === 'affected');
    return {
      // §6.1.27.8: a csaf_vex vulnerability is named by its CVE, else by ids.
      ...(/^CVE-\d{4}-\d{4,}$/.test(vulnId) ? { cve: vulnId } : { ids: [{ system_name: vulnId.split('-')[0] ?? 'id', text: vulnId }] }),
      notes: [{ category: 'description', title: 'Analysis', text: rs.map((r) => `${r.firmwareVersion}: ${r.status}${r.detail ? ` - ${r.detail}` : ''}`).join('\n') }],
      product_status: Object.fromEntries(Object.entries(status).filter(([, v]) => v.length > 0)),
      ...(notAffected.length ? {
        flags: notAffected.filter((r) => r.justification).map((r) => ({ label: r.justification, product_ids: [productId(r.model, r.firmwareVersion)] })),
        threats: notAffected.map((r) => ({ category: 'impact', details: r.detail ?? `Not affected: ${r.justification ?? 'see flags'}.`, product_ids: [productId(r.model, r.firmwareVersion)] })),
      } : {}),
      ...(affected.length ? { remediations: affected.map((r) => ({ category: 'mitigation', details: r.detail ?? 'Contact the manufacturer; a fixed firmware is being prepared.', product_ids: [productId(r.model, r.firmwareVersion)] })) } : {}),
    };
  });
  return {
    document: {
      category: 'csaf_vex', csaf_version: '2.0', lang: 'en',
      publisher: { category: 'vendor', name: opts.publisher.name, namespace: opts.publisher.namespace },
      title: `VEX for ${opts.model}`,
      notes: [{ category: 'summary', title: 'Summary', text: `Vulnerability analysis of ${opts.model} firmware ${versions.join(', ')}.` }],
      tracking: {
        id: opts.trackingId, status: 'final', version: '1', initial_release_date: iso, current_release_date: iso,
        revision_history: [{ date: iso, number: '1', summary: 'Initial version.' }],
        generator: { engine: { name: 'MedTrust' }, date: iso },
      },
    },
    product_tree: {
      branches: [{
        category: 'vendor', name: opts.publisher.name,
        branches: [{ category: 'product_name', name: opts.model, branches: versions.map((v) => ({ category: 'product_version', name: v, product: { product_id: productId(opts.model, v), name: `${opts.publisher.name} ${opts.model} ${v}` } })) }],
      }],
    },
    vulnerabilities,
  };
}
