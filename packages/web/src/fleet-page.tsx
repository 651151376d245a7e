import { useEffect, useState } from 'react';
import { api, type Device, errorText, type FleetSummary, type FirmwareExposure, type Presence, type Role } from './api.ts';
import { Link } from './link.tsx';
import { can } from './nav.ts';
import { BarList, LoadState, useLoad } from './ui.tsx';

const PAGE_SIZE = 25;
const STATES = ['', 'manufactured', 'provisioned', 'enrolled', 'active', 'quarantined', 'decommissioned'];

/** Devices by state and model, one page at a time from the API (cursor `after`), with online status. */
export function FleetPage(props: { title: string; hint?: string; role?: Role }) {
  const [state, setState] = useState('');
  const [modelInput, setModelInput] = useState('');
  const [model, setModel] = useState('');
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [devices, setDevices] = useState<Device[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [presence, setPresence] = useState<Record<string, Presence['status']>>({});
  const [error, setError] = useState<string | null>(null);
  const after = cursors[cursors.length - 1];

  useEffect(() => {
    let live = true;
    setError(null);
    api.devices({ state: state || undefined, model: model || undefined, limit: PAGE_SIZE, after }).then(async (page) => {
      if (!live) return;
      setDevices(page.devices);
      setNext(page.next);
      // The page's devices only, in one call.
      if (page.devices.length === 0) return;
      const found = await api.presenceOf(page.devices.map((d) => d.id)).catch(() => ({ presence: [] }));
      if (live) setPresence(Object.fromEntries(found.presence.map((p) => [p.deviceId, p.status])));
    }, (e: unknown) => live && setError(errorText(e)));
    return () => { live = false; };
  }, [state, model, after]);

  const reset = () => setCursors([undefined]);
  // Ask the API once typing pauses, not on every keystroke.
  useEffect(() => {
    const timer = setTimeout(() => { if (modelInput.trim() !== model) { setModel(modelInput.trim()); setCursors([undefined]); } }, 300);
    return () => clearTimeout(timer);
  }, [modelInput, model]);
  return (
    <section>
      <h1>{props.title}</h1>
      {props.hint && <p>{props.hint}</p>}
      {props.role && <FleetOverview role={props.role} />}
      <h2>Devices</h2>
      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter devices">
        <label>State <select value={state} onChange={(e) => { setState(e.target.value); reset(); }}>
          {STATES.map((s) => <option key={s} value={s}>{s || 'any'}</option>)}
        </select></label>
        <label>Model <input value={modelInput} onChange={(e) => setModelInput(e.target.value)} placeholder="any" /></label>
      </form>
      {error && <p role="alert" className="error">{error}</p>}
      {devices && (
        <div className="table-wrap">
          <table>
            <caption className="sr-only">Devices, page {cursors.length}</caption>
            <thead><tr><th scope="col">Serial</th><th scope="col">Model</th><th scope="col">State</th><th scope="col">Status</th><th scope="col">Firmware</th><th scope="col">Site</th></tr></thead>
            <tbody>
              {devices.map((d) => (
                <tr key={d.id}>
                  <td><Link to={`/devices/${encodeURIComponent(d.id)}`}>{d.serial}</Link></td>
                  <td>{d.model}</td>
                  <td><span className={`badge state-${d.state}`}>{d.state}</span></td>
                  <td><span className={`badge presence-${presence[d.id] ?? 'unknown'}`}>{presence[d.id] ?? '…'}</span></td>
                  <td>{d.firmwareVersion ?? '—'}</td>
                  <td>{d.siteId ?? '—'}</td>
                </tr>
              ))}
              {devices.length === 0 && <tr><td colSpan={6}>No devices match.</td></tr>}
            </tbody>
          </table>
        </div>
      )}
      <div className="pager">
        <button type="button" disabled={cursors.length <= 1} onClick={() => setCursors((c) => c.slice(0, -1))}>Previous page</button>
        <span>Page {cursors.length}</span>
        <button type="button" disabled={next === null} onClick={() => next !== null && setCursors((c) => [...c, next])}>Next page</button>
      </div>
    </section>
  );
}

const PRESENCE_TONE: Record<string, string> = { 'online': 'tone-ok', 'late': 'tone-warn', 'offline': 'tone-bad', 'never-seen': '' };
const STATE_TONE: Record<string, string> = { active: 'tone-ok', quarantined: 'tone-bad', decommissioned: '' };

/** Whole-fleet counts, aggregated by the database (GET /devices/summary, GET /vulnerabilities): never the device table. */
function FleetOverview(props: { role: Role }) {
  const summary = useLoad<FleetSummary>(() => api.fleetSummary(), []);
  const showRisk = can(props.role, 'vuln:read');
  const exposure = useLoad<FirmwareExposure[] | null>(() => (showRisk ? api.fleetExposure().then((r) => r.firmwares) : Promise.resolve(null)), [showRisk]);
  const s = summary.data;
  return (
    <section aria-labelledby="overview-h" className="overview">
      <h2 id="overview-h">Overview</h2>
      <LoadState error={summary.error} loading={!s} what="fleet summary" />
      {s && (
        <>
          <p className="kpis">
            <span><strong>{s.total.toLocaleString()}</strong> devices</span>
            <span><strong>{(s.byPresence.find((r) => r.key === 'online')?.count ?? 0).toLocaleString()}</strong> online</span>
            <span><strong>{(s.byState.find((r) => r.key === 'quarantined')?.count ?? 0).toLocaleString()}</strong> quarantined</span>
          </p>
          <div className="bar-grid">
            <BarList title="By state" total={s.total} rows={s.byState.map((r) => ({ label: r.key ?? '—', count: r.count, tone: STATE_TONE[r.key ?? ''] }))} />
            <BarList title="Connection" total={s.total} rows={s.byPresence.map((r) => ({ label: r.key ?? '—', count: r.count, tone: PRESENCE_TONE[r.key ?? ''] }))} />
            <BarList title="By model" total={s.total} rows={s.byModel.map((r) => ({ label: r.key ?? '—', count: r.count }))} />
            <BarList title="By site" total={s.total} rows={s.bySite.map((r) => ({ label: r.name ?? r.key ?? 'no site', count: r.count }))} />
            {showRisk && exposure.data && <BarList title="Vulnerability risk (by firmware)" total={s.total} rows={riskRows(exposure.data, s.total)} />}
          </div>
          <LoadState error={exposure.error} loading={false} what="vulnerability exposure" />
        </>
      )}
    </section>
  );
}

/** Devices by the worst finding on their firmware: known exploited (KEV) > affected > unknown > none. */
function riskRows(firmwares: readonly FirmwareExposure[], total: number) {
  let kev = 0, affected = 0, unknown = 0, none = 0;
  for (const f of firmwares) {
    if (f.kev > 0) kev += f.devices;
    else if (f.affected > 0) affected += f.devices;
    else if (f.unknown > 0) unknown += f.devices;
    else none += f.devices;
  }
  const reported = kev + affected + unknown + none;
  return [
    { label: 'known exploited', count: kev, tone: 'tone-bad' }, { label: 'affected', count: affected, tone: 'tone-warn' },
    { label: 'to analyse', count: unknown }, { label: 'none known', count: none, tone: 'tone-ok' }, { label: 'firmware not reported', count: Math.max(0, total - reported) },
  ].filter((r) => r.count > 0);
}
