import { useState } from 'react';
import { api, type AuditEntry, type AuditVerification } from './api.ts';
import { LoadState, useLoad } from './ui.tsx';

const PAGE = 50;

/** The audit log with the result of verifying its hash chain and signed checkpoints. */
export function AuditPage(props: { tenantKind: string }) {
  const [target, setTarget] = useState('');
  const [action, setAction] = useState('');
  const [applied, setApplied] = useState({ target: '', action: '' });
  // Verification reads the whole log: only on request, and only the operator tenant may run it.
  const [verify, setVerify] = useState<{ state: 'idle' | 'running' } | { state: 'done'; report: AuditVerification } | { state: 'error'; message: string }>({ state: 'idle' });
  const runVerify = () => {
    setVerify({ state: 'running' });
    api.auditVerify().then((report) => setVerify({ state: 'done', report }), (e: unknown) => setVerify({ state: 'error', message: e instanceof Error ? e.message : String(e) }));
  };
  return (
    <section>
      <h1>Audit log</h1>
      {props.tenantKind === 'operator' && (
        <div className="verify" aria-live="polite">
          <button type="button" onClick={runVerify} disabled={verify.state === 'running'}>{verify.state === 'running' ? 'Verifying…' : 'Verify the hash chain'}</button>
          {verify.state === 'done' && verify.report.ok && <p className="ok" role="status">Verified: {verify.report.entries.toLocaleString()} entries chained, {verify.report.checkpoints} signed checkpoints valid{verify.report.latestCheckpoint ? ` (latest covers 1–${verify.report.latestCheckpoint})` : ''}.</p>}
          {verify.state === 'done' && !verify.report.ok && <p className="error" role="alert">Verification FAILED at entry {verify.report.problem.seq}: {verify.report.description ?? verify.report.problem.kind}. {verify.report.entries.toLocaleString()} entries checked before it.</p>}
          {verify.state === 'error' && <p className="error" role="alert">{verify.message}</p>}
        </div>
      )}
      <form className="filters" aria-label="Filter audit entries" onSubmit={(e) => { e.preventDefault(); setApplied({ target: target.trim(), action: action.trim() }); }}>
        <label>Target <input value={target} onChange={(e) => setTarget(e.target.value)} placeholder="device:dev_…" /></label>
        <label>Action <input value={action} onChange={(e) => setAction(e.target.value)} placeholder="pki.certificate.revoked" /></label>
        <button type="submit">Apply</button>
      </form>
      <AuditTable key={`${applied.target}|${applied.action}`} target={applied.target || undefined} action={applied.action || undefined} />
    </section>
  );
}

/** Audit entries in chain order, one page at a time (`since` = last seq of the previous page). */
export function AuditTable(props: { target?: string; action?: string }) {
  const [cursors, setCursors] = useState<number[]>([0]);
  const since = cursors[cursors.length - 1];
  const page = useLoad<{ entries: AuditEntry[]; next: number | null }>(() => api.audit({ target: props.target, action: props.action, since, limit: PAGE }), [props.target, props.action, since]);
  const d = page.data;
  return (
    <>
      <LoadState error={page.error} loading={!d && !page.error} what="audit entries" />
      {d && d.entries.length === 0 && <p>No audit entries.</p>}
      {d && d.entries.length > 0 && (
        <div className="table-wrap"><table>
          <thead><tr><th scope="col">#</th><th scope="col">When</th><th scope="col">Actor</th><th scope="col">Action</th><th scope="col">Target</th><th scope="col">Outcome</th></tr></thead>
          <tbody>{d.entries.map((e) => (
            <tr key={e.seq}><td>{e.seq}</td><td>{new Date(e.at).toLocaleString()}</td><td className="wrap">{e.actor}</td><td>{e.action}</td><td className="wrap">{e.target ?? '—'}</td><td><span className={`badge outcome-${e.outcome}`}>{e.outcome}</span></td></tr>
          ))}</tbody>
        </table></div>
      )}
      <div className="pager">
        <button type="button" disabled={cursors.length <= 1} onClick={() => setCursors((c) => c.slice(0, -1))}>Previous page</button>
        <span>Page {cursors.length}</span>
        <button type="button" disabled={!d || d.next === null} onClick={() => d?.next != null && setCursors((c) => [...c, d.next!])}>Next page</button>
      </div>
    </>
  );
}
