import { useCallback, useEffect, useState } from 'react';
import { type Alert, api, type Certificate, type Device, errorText, type Presence, type Role } from './api.ts';
import { AlertTable } from './alert-table.tsx';
import { can } from './nav.ts';
import { AuditTable } from './audit-page.tsx';
import { VitalsChart } from './vitals-chart.tsx';

// RFC 5280 §5.3.1 reason names the revoke API accepts (removeFromCRL is not a revocation reason).
const REASONS = ['keyCompromise', 'cACompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation', 'certificateHold', 'privilegeWithdrawn', 'unspecified'];

/** One device: identity, presence, certificates (revoke), firmware, vulnerabilities, live vitals, alerts. */
export function DevicePage(props: { id: string; role: Role }) {
  const { id, role } = props;
  const [device, setDevice] = useState<Device | null>(null);
  const [presence, setPresence] = useState<Presence | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setError(null);
    api.device(id).then(setDevice, (e: unknown) => setError(errorText(e)));
    api.presence(id).then(setPresence, () => setPresence(null));
  }, [id]);
  if (error) return <section><h1>Device</h1><p role="alert" className="error">{error}</p></section>;
  if (!device) return <p role="status">Loading device…</p>;
  return (
    <section>
      <h1>{device.model} <span className="serial">{device.serial}</span></h1>
      <dl className="facts">
        <dt>Device id</dt><dd><code>{device.id}</code></dd>
        <dt>State</dt><dd><span className={`badge state-${device.state}`}>{device.state}</span></dd>
        <dt>Status</dt><dd><span className={`badge presence-${presence?.status ?? 'unknown'}`}>{presence?.status ?? 'unknown'}</span>{presence?.lastSeenAt ? ` (last seen ${new Date(presence.lastSeenAt).toLocaleString()})` : ''}</dd>
        <dt>Firmware</dt><dd>{device.firmwareVersion ?? '—'}</dd>
        <dt>Hardware revision</dt><dd>{device.hardwareRevision ?? '—'}</dd>
        <dt>Site</dt><dd>{device.siteId ?? '—'}</dd>
        <dt>Batch</dt><dd>{device.batchId ?? '—'}</dd>
        <dt>Registered</dt><dd>{new Date(device.createdAt).toLocaleString()}</dd>
      </dl>
      {can(role, 'telemetry:read') && (
        <section aria-labelledby="vitals-h"><h2 id="vitals-h">Live vitals</h2>
          <VitalsChart deviceId={id} metric="heart_rate" label="Heart rate" unit="bpm" />
          <VitalsChart deviceId={id} metric="spo2" label="SpO₂" unit="%" />
        </section>
      )}
      {can(role, 'alert:read') && <DeviceAlerts id={id} role={role} />}
      {can(role, 'certificate:read') && <Certificates id={id} role={role} />}
      {can(role, 'vuln:read') && <Vulnerabilities id={id} />}
      {can(role, 'audit:read') && <section aria-labelledby="audit-h"><h2 id="audit-h">Audit trail</h2><AuditTable target={`device:${id}`} /></section>}
    </section>
  );
}

function DeviceAlerts(props: { id: string; role: Role }) {
  const [alerts, setAlerts] = useState<Alert[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(() => api.alerts({ deviceId: props.id, limit: 50 }).then((r) => setAlerts(r.alerts), (e: unknown) => setError(errorText(e))), [props.id]);
  useEffect(() => void load(), [load]);
  return (
    <section aria-labelledby="alerts-h"><h2 id="alerts-h">Alerts</h2>
      {error && <p role="alert" className="error">{error}</p>}
      {alerts && <AlertTable alerts={alerts} role={props.role} onChanged={(a) => setAlerts((l) => l?.map((x) => (x.id === a.id ? a : x)) ?? null)} />}
    </section>
  );
}

function Certificates(props: { id: string; role: Role }) {
  const [certs, setCerts] = useState<Certificate[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(() => api.certificates(props.id).then((r) => setCerts(r.certificates), (e: unknown) => setError(errorText(e))), [props.id]);
  useEffect(() => void load(), [load]);
  return (
    <section aria-labelledby="certs-h"><h2 id="certs-h">Certificates</h2>
      {error && <p role="alert" className="error">{error}</p>}
      {certs && certs.length === 0 && <p>No certificates.</p>}
      {certs && certs.length > 0 && (
        <div className="table-wrap"><table>
          <thead><tr><th scope="col">Serial</th><th scope="col">Chain</th><th scope="col">Subject</th><th scope="col">Expires</th><th scope="col">Status</th><th scope="col">Action</th></tr></thead>
          <tbody>{certs.map((c) => (
            <tr key={c.serial}>
              <td><code>{c.serial.slice(0, 16)}…</code></td><td><Chain caName={c.caName} profile={c.profile} /></td><td>{c.subject}</td>
              <td>{expiry(c.notAfter)}</td>
              <td><span className={`badge cert-${c.status}`}>{c.status}</span>{c.revocationReason ? ` (${c.revocationReason})` : ''}</td>
              <td>{c.status === 'valid' ? (can(props.role, 'certificate:revoke') ? <RevokeForm serial={c.serial} onDone={() => void load()} /> : '—') : '—'}</td>
            </tr>
          ))}</tbody>
        </table></div>
      )}
    </section>
  );
}

/** Device certificate <- issuing CA <- root (the platform's two-level hierarchy); CA certificates are public under /pki/ca. */
export function Chain(props: { caName: string; profile: string }) {
  return (
    <ol className="chain" aria-label="Certificate chain, leaf first">
      <li>{props.profile}</li>
      <li><a href={`/pki/ca/${encodeURIComponent(props.caName)}.pem`}>{props.caName} CA</a></li>
      {props.caName !== 'root' && <li><a href="/pki/ca/root.pem">root CA</a></li>}
    </ol>
  );
}

export function RevokeForm(props: { serial: string; onDone: () => void }) {
  const [reason, setReason] = useState('keyCompromise');
  const [error, setError] = useState<string | null>(null);
  const fieldId = `reason-${props.serial}`;
  const revoke = async () => {
    if (!window.confirm(`Revoke certificate ${props.serial.slice(0, 16)}… (${reason})? The device loses access.`)) return;
    try {
      await api.revoke(props.serial, reason);
      props.onDone();
    } catch (e) {
      setError(errorText(e));
    }
  };
  return (
    <span className="revoke">
      <label htmlFor={fieldId} className="sr-only">Revocation reason</label>
      <select id={fieldId} value={reason} onChange={(e) => setReason(e.target.value)}>{REASONS.map((r) => <option key={r} value={r}>{r}</option>)}</select>
      <button type="button" className="danger" onClick={() => void revoke()}>Revoke</button>
      {error && <span role="alert" className="error">{error}</span>}
    </span>
  );
}

interface Exposure {
  readonly firmwareVersion: string | null;
  readonly vulnerabilities: ReadonlyArray<{ readonly vulnId: string; readonly status: string; readonly summary: string; readonly kev: boolean; readonly epss: number | null; readonly cvss31Vector: string | null; readonly analysis: { readonly status: string } | null }>;
  readonly risk?: { readonly score: number; readonly band: string; readonly explanation?: readonly string[] };
}

function Vulnerabilities(props: { id: string }) {
  const [data, setData] = useState<Exposure | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => void api.vulnerabilities(props.id).then((r) => setData(r as unknown as Exposure), (e: unknown) => setError(errorText(e))), [props.id]);
  return (
    <section aria-labelledby="vulns-h"><h2 id="vulns-h">Vulnerabilities</h2>
      {error && <p role="alert" className="error">{error}</p>}
      {data && (
        <>
          <p>Firmware {data.firmwareVersion ?? 'unknown'}: {data.vulnerabilities.length} known {data.vulnerabilities.length === 1 ? 'vulnerability' : 'vulnerabilities'}{data.risk ? <>, risk <strong>{data.risk.score}</strong> ({data.risk.band})</> : null}.</p>
          {data.vulnerabilities.length > 0 && (
            <div className="table-wrap"><table>
              <thead><tr><th scope="col">Id</th><th scope="col">Status</th><th scope="col">Exploited (KEV)</th><th scope="col">EPSS</th><th scope="col">VEX</th><th scope="col">Summary</th></tr></thead>
              <tbody>{data.vulnerabilities.slice(0, 100).map((v) => (
                <tr key={v.vulnId}><td>{v.vulnId}</td><td>{v.status}</td><td>{v.kev ? 'yes' : 'no'}</td><td>{v.epss === null ? '—' : v.epss.toFixed(3)}</td><td>{v.analysis?.status ?? '—'}</td><td>{v.summary}</td></tr>
              ))}</tbody>
            </table></div>
          )}
          {data.risk?.explanation && <details open={data.risk.band === 'high' || data.risk.band === 'critical'}><summary>Why the risk is {data.risk.band}</summary><ul>{data.risk.explanation.map((l) => <li key={l}>{l}</li>)}</ul></details>}
        </>
      )}
    </section>
  );
}

export function expiry(notAfter: string): string {
  // IEEE 802.1AR §8.5: an IDevID without a well-defined expiry carries notAfter 99991231235959Z.
  if (notAfter.startsWith('9999-')) return 'no expiry (device lifetime)';
  const days = Math.floor((Date.parse(notAfter) - Date.now()) / 86_400_000);
  return `${new Date(notAfter).toLocaleDateString()} (${days < 0 ? 'expired' : `${days} days`})`;
}
