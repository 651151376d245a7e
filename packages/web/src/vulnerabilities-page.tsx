import { useState } from 'react';
import { api, errorText, type FirmwareExposure, type Role } from './api.ts';
import { can } from './nav.ts';
import { LoadState, useLoad } from './ui.tsx';

/** Exposure per firmware in the caller's scope; one firmware's vulnerabilities; CSAF advisories (vuln:manage). */
export function VulnerabilitiesPage(props: { role: Role }) {
  const fleet = useLoad(() => api.fleetExposure().then((r) => [...r.firmwares].sort(worstFirst)), []);
  const [chosen, setChosen] = useState<FirmwareExposure | null>(null);
  return (
    <section>
      <h1>Vulnerabilities and advisories</h1>
      <LoadState error={fleet.error} loading={!fleet.data && !fleet.error} what="fleet exposure" />
      {fleet.data && fleet.data.length === 0 && <p>No devices report a firmware version yet.</p>}
      {fleet.data && fleet.data.length > 0 && (
        <div className="table-wrap"><table>
          <caption className="sr-only">Firmware in your fleet, most exposed first</caption>
          <thead><tr><th scope="col">Model</th><th scope="col">Firmware</th><th scope="col">Devices</th><th scope="col">Known exploited</th><th scope="col">Affected</th><th scope="col">To analyse</th><th scope="col">Detail</th></tr></thead>
          <tbody>{fleet.data.map((f) => (
            <tr key={`${f.model}@${f.firmwareVersion}`}>
              <td>{f.model}</td><td>{f.firmwareVersion}</td><td>{f.devices.toLocaleString()}</td>
              <td>{f.kev > 0 ? <span className="badge tone-bad">{f.kev}</span> : 0}</td><td>{f.affected > 0 ? <span className="badge tone-warn">{f.affected}</span> : 0}</td><td>{f.unknown}</td>
              <td><button type="button" aria-pressed={chosen === f} onClick={() => setChosen(f)}>Show</button></td>
            </tr>
          ))}</tbody>
        </table></div>
      )}
      {chosen && <FirmwareDetail key={`${chosen.model}@${chosen.firmwareVersion}`} fw={chosen} role={props.role} />}
    </section>
  );
}

const worstFirst = (a: FirmwareExposure, b: FirmwareExposure): number => b.kev - a.kev || b.affected - a.affected || b.devices - a.devices;

function FirmwareDetail(props: { fw: FirmwareExposure; role: Role }) {
  const { fw } = props;
  const detail = useLoad(() => api.firmwareVulnerabilities(fw.model, fw.firmwareVersion), [fw.model, fw.firmwareVersion]);
  const [advisory, setAdvisory] = useState<Record<string, string>>({});
  const publish = async (vulnId: string) => {
    try {
      const a = await api.advisory(vulnId);
      const doc = (a.advisory ?? a) as { document?: { tracking?: { id?: string } } };
      setAdvisory((m) => ({ ...m, [vulnId]: `CSAF advisory ${doc.document?.tracking?.id ?? ''} created` }));
    } catch (e) {
      setAdvisory((m) => ({ ...m, [vulnId]: errorText(e) }));
    }
  };
  const vulns = detail.data?.vulnerabilities;
  return (
    <section aria-labelledby="fw-h">
      <h2 id="fw-h">{fw.model} {fw.firmwareVersion}</h2>
      <LoadState error={detail.error} loading={!vulns && !detail.error} what="vulnerabilities" />
      {vulns && vulns.length === 0 && <p>No known vulnerabilities in its SBOM.</p>}
      {vulns && vulns.length > 0 && (
        <div className="table-wrap"><table>
          <thead><tr><th scope="col">Id</th><th scope="col">Status</th><th scope="col">KEV</th><th scope="col">EPSS</th><th scope="col">VEX</th><th scope="col">Component</th><th scope="col">Summary</th>{can(props.role, 'vuln:manage') && <th scope="col">Advisory</th>}</tr></thead>
          <tbody>{vulns.slice(0, 200).map((v) => (
            <tr key={v.vulnId}>
              <td>{v.vulnId}</td><td><span className={`badge vuln-${v.status}`}>{v.status}</span></td><td>{v.kev ? <span className="badge tone-bad">yes</span> : 'no'}</td>
              <td>{v.epss === null ? '—' : v.epss.toFixed(3)}</td><td>{v.analysis?.status ?? '—'}</td>
              <td className="wrap">{v.components?.map((c) => `${c.name} ${c.version}`).join(', ') ?? '—'}</td><td className="wrap">{v.summary}</td>
              {can(props.role, 'vuln:manage') && <td>{advisory[v.vulnId] ? <output>{advisory[v.vulnId]}</output> : <button type="button" onClick={() => void publish(v.vulnId)}>Create CSAF</button>}</td>}
            </tr>
          ))}</tbody>
        </table></div>
      )}
    </section>
  );
}
