import { type FormEvent, useState } from 'react';
import { api, type Campaign, errorText, type Release, type Role, type UpdateStatus } from './api.ts';
import { can } from './nav.ts';
import { LoadState, useLoad } from './ui.tsx';

const STATUSES: ReadonlyArray<{ key: UpdateStatus; tone: string }> = [
  { key: 'installed', tone: 'tone-ok' }, { key: 'installing', tone: 'tone-info' }, { key: 'downloading', tone: 'tone-info' },
  { key: 'pending', tone: '' }, { key: 'failed', tone: 'tone-bad' }, { key: 'rolled-back', tone: 'tone-warn' },
];

/** Releases, and their phased rollouts with progress; start a campaign for a published release. */
export function ReleasesPage(props: { role: Role }) {
  const releases = useLoad(() => api.releases().then((r) => r.releases), []);
  const [before, setBefore] = useState<string[]>([]);
  const campaigns = useLoad(() => api.campaigns(before.at(-1)), [before]);
  const published = (releases.data ?? []).filter((r) => r.state === 'published');
  return (
    <section>
      <h1>Releases and campaigns</h1>
      {can(props.role, 'release:manage') && published.length > 0 && <StartCampaign releases={published} onStarted={() => { setBefore([]); campaigns.reload(); }} />}
      <section aria-labelledby="campaigns-h">
        <h2 id="campaigns-h">Campaigns</h2>
        <LoadState error={campaigns.error} loading={!campaigns.data && !campaigns.error} what="campaigns" />
        {campaigns.data && campaigns.data.campaigns.length === 0 && <p>No campaigns yet.</p>}
        {campaigns.data?.campaigns.map((c) => <CampaignCard key={c.id} c={c} release={releases.data?.find((r) => r.id === c.releaseId)} role={props.role} onChanged={campaigns.reload} />)}
        <div className="pager">
          <button type="button" disabled={before.length === 0} onClick={() => setBefore((b) => b.slice(0, -1))}>Newer</button>
          <button type="button" disabled={!campaigns.data?.next} onClick={() => campaigns.data?.next && setBefore((b) => [...b, campaigns.data!.next!])}>Older</button>
        </div>
      </section>
      <section aria-labelledby="releases-h">
        <h2 id="releases-h">Releases</h2>
        <LoadState error={releases.error} loading={!releases.data && !releases.error} what="releases" />
        {releases.data && releases.data.length === 0 && <p>No releases.</p>}
        {releases.data && releases.data.length > 0 && (
          <div className="table-wrap"><table>
            <thead><tr><th scope="col">Version</th><th scope="col">Models</th><th scope="col">State</th><th scope="col">File</th><th scope="col">SBOM</th><th scope="col">Published</th></tr></thead>
            <tbody>{releases.data.map((r) => (
              <tr key={r.id}><td>{r.version}</td><td>{r.models.join(', ')}</td><td><span className={`badge release-${r.state}`}>{r.state}</span></td>
                <td className="wrap">{r.fileName} ({(r.length / 1024).toFixed(0)} KiB, sha256 <code>{r.sha256.slice(0, 12)}…</code>)</td>
                <td>{r.sbom ? r.sbom.fileName : 'none'}</td><td>{r.publishedAt ? new Date(r.publishedAt).toLocaleString() : '—'}</td></tr>
            ))}</tbody>
          </table></div>
        )}
      </section>
    </section>
  );
}

function CampaignCard(props: { c: Campaign; release: Release | undefined; role: Role; onChanged: () => void }) {
  const { c } = props;
  const total = Object.values(c.counts).reduce((a, b) => a + b, 0);
  const [error, setError] = useState<string | null>(null);
  const resume = () => api.resumeCampaign(c.id).then(props.onChanged, (e: unknown) => setError(errorText(e)));
  const approve = () => api.approveCampaign(c.id).then(props.onChanged, (e: unknown) => setError(errorText(e)));
  const label = STATUSES.filter((s) => c.counts[s.key] > 0).map((s) => `${c.counts[s.key]} ${s.key}`).join(', ') || 'no devices selected';
  return (
    <article className="card campaign" data-campaign-id={c.id} aria-labelledby={`c-${c.id}`}>
      <h3 id={`c-${c.id}`}>{c.name} <span className={`badge campaign-${c.state}`}>{c.state}</span>{c.emergency && <span className="badge tone-bad">emergency</span>}</h3>
      <p>{props.release ? `${props.release.models.join(', ')} → ${props.release.version}` : c.releaseId} · phase {c.currentPhase + 1} of {c.phases.length} (up to {c.phases[c.currentPhase] ?? 100}% of {total.toLocaleString()} devices){c.pausedReason ? ` · paused: ${c.pausedReason}` : ''}</p>
      <div className="stack" role="img" aria-label={`Progress: ${label}`}>
        {total > 0 && STATUSES.map((s) => c.counts[s.key] > 0 && <span key={s.key} className={`stack-part ${s.tone}`} style={{ width: `${(100 * c.counts[s.key]) / total}%` }} />)}
      </div>
      <p className="legend">{label}</p>
      {c.state === 'paused' && can(props.role, 'release:manage') && <button type="button" onClick={() => void resume()}>Resume</button>}
      {c.state === 'awaiting-approval' && can(props.role, 'release:manage') && <button type="button" onClick={() => void approve()}>Approve the next phase</button>}
      {error && <p role="alert" className="error">{error}</p>}
    </article>
  );
}

function StartCampaign(props: { releases: readonly Release[]; onStarted: () => void }) {
  const [releaseId, setReleaseId] = useState(props.releases[0]?.id ?? '');
  const release = props.releases.find((r) => r.id === releaseId);
  const [model, setModel] = useState('');
  const [name, setName] = useState('');
  const [phases, setPhases] = useState('1, 10, 50, 100');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const chosenModel = model && release?.models.includes(model) ? model : (release?.models[0] ?? '');
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!release) return;
    setError(null);
    setBusy(true);
    try {
      const list = phases.split(',').map((p) => Number(p.trim())).filter((n) => !Number.isNaN(n));
      await api.startCampaign({ releaseId: release.id, name: name.trim() || `${chosenModel} ${release.version}`, selection: { model: chosenModel }, phases: list });
      setName('');
      props.onStarted();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="start-h" className="card">
      <h2 id="start-h">Start a campaign</h2>
      <form className="filters" onSubmit={(e) => void submit(e)}>
        <label>Release <select value={releaseId} onChange={(e) => setReleaseId(e.target.value)}>
          {props.releases.map((r) => <option key={r.id} value={r.id}>{r.models.join(', ')} {r.version}</option>)}
        </select></label>
        <label>Model <select value={chosenModel} onChange={(e) => setModel(e.target.value)}>{release?.models.map((m) => <option key={m} value={m}>{m}</option>)}</select></label>
        <label>Name <input value={name} onChange={(e) => setName(e.target.value)} placeholder={release ? `${chosenModel} ${release.version}` : ''} /></label>
        <label>Phases (% cumulative) <input value={phases} onChange={(e) => setPhases(e.target.value)} /></label>
        <button type="submit" disabled={busy || !release}>{busy ? 'Starting…' : 'Start campaign'}</button>
      </form>
      {error && <p role="alert" className="error">{error}</p>}
    </section>
  );
}
