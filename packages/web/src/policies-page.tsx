import { type FormEvent, useState } from 'react';
import { api, type DryRun, errorText } from './api.ts';
import { Link } from './link.tsx';
import { LoadState, useLoad } from './ui.tsx';

const EXAMPLE = `name: kev-quarantine
description: Quarantine devices with a KEV-listed vulnerability unpatched for more than 30 days
trigger:
  schedule:
    everyMinutes: 60
rules:
  - name: kev-unpatched-30-days
    when:
      all:
        - fact: vulns.kevMaxDaysUnpatched
          gt: 30
        - fact: device.state
          in: [enrolled, active]
    actions:
      - kind: quarantine
`;

/** Policies in force and a dry run: which devices a policy (YAML or JSON) would hit now, changing nothing. */
export function PoliciesPage() {
  const list = useLoad(() => api.policies().then((r) => r.policies), []);
  const [text, setText] = useState(EXAMPLE);
  const [result, setResult] = useState<DryRun | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const run = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      setResult(await api.dryRun(text));
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section>
      <h1>Policies</h1>
      <LoadState error={list.error} loading={!list.data && !list.error} what="policies" />
      {list.data && list.data.length === 0 && <p>No policies saved.</p>}
      {list.data && list.data.length > 0 && (
        <div className="table-wrap"><table>
          <thead><tr><th scope="col">Name</th><th scope="col">Version</th><th scope="col">Enabled</th><th scope="col">Rules</th><th scope="col">Description</th><th scope="col">Saved</th><th scope="col">Action</th></tr></thead>
          <tbody>{list.data.map((p) => (
            <tr key={p.id}><td>{p.name}</td><td>{p.version}</td><td>{p.enabled ? 'yes' : 'no'}</td><td>{p.document.rules?.map((r) => r.name).join(', ') ?? '—'}</td>
              <td className="wrap">{p.document.description ?? ''}</td><td>{new Date(p.createdAt).toLocaleString()} by {p.createdBy}</td>
              <td><button type="button" onClick={() => setText(JSON.stringify(p.document, null, 2))}>Load for dry run</button></td></tr>
          ))}</tbody>
        </table></div>
      )}
      <section aria-labelledby="dry-h" className="card">
        <h2 id="dry-h">Dry run</h2>
        <form onSubmit={(e) => void run(e)} className="stacked">
          <label htmlFor="policy-text">Policy document (YAML or JSON)</label>
          <textarea id="policy-text" rows={14} spellCheck={false} value={text} onChange={(e) => setText(e.target.value)} />
          <button type="submit" disabled={busy}>{busy ? 'Running…' : 'Dry run'}</button>
        </form>
        {error && <p role="alert" className="error">{error}</p>}
        {result && (
          <div role="status">
            <p>Policy <strong>{result.policy}</strong> would act on <strong>{result.devices}</strong> {result.devices === 1 ? 'device' : 'devices'} now ({result.hits.length} rule {result.hits.length === 1 ? 'hit' : 'hits'}).</p>
            {result.hits.length > 0 && (
              <div className="table-wrap"><table>
                <thead><tr><th scope="col">Device</th><th scope="col">Rule</th><th scope="col">Why</th><th scope="col">Actions</th><th scope="col">Already decided</th></tr></thead>
                <tbody>{result.hits.slice(0, 200).map((h, i) => (
                  <tr key={`${h.deviceId}-${h.rule}-${i}`}><td><Link to={`/devices/${encodeURIComponent(h.deviceId)}`}>{h.deviceId.slice(0, 12)}</Link></td><td>{h.rule}</td>
                    <td className="wrap">{h.reason.join('; ')}</td><td>{h.actions.map((a) => a.kind).join(', ')}</td><td>{h.alreadyDecided ? 'yes' : 'no'}</td></tr>
                ))}</tbody>
              </table></div>
            )}
          </div>
        )}
      </section>
    </section>
  );
}
