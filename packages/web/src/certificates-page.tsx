import { type FormEvent, useState } from 'react';
import { api, type EnrollSecret, errorText, type Role } from './api.ts';
import { Chain, expiry, RevokeForm } from './device-page.tsx';
import { Link } from './link.tsx';
import { can } from './nav.ts';
import { LoadState, useLoad } from './ui.tsx';

const LIMIT = 100;

/** Certificates in the caller's scope, newest first; revoke; issue through a one-time EST enrolment secret. */
export function CertificatesPage(props: { role: Role }) {
  const [status, setStatus] = useState('valid');
  const [deviceInput, setDeviceInput] = useState('');
  const [deviceId, setDeviceId] = useState('');
  const list = useLoad(() => api.certificateList({ status: status || undefined, deviceId: deviceId || undefined, limit: LIMIT }), [status, deviceId]);
  const certs = list.data?.certificates;
  return (
    <section>
      <h1>Certificates</h1>
      {can(props.role, 'enroll-token:create') && <EnrollForm />}
      <h2>Issued certificates</h2>
      <form className="filters" aria-label="Filter certificates" onSubmit={(e) => { e.preventDefault(); setDeviceId(deviceInput.trim()); }}>
        <label>Status <select value={status} onChange={(e) => setStatus(e.target.value)}>
          {['', 'valid', 'revoked', 'superseded'].map((s) => <option key={s} value={s}>{s || 'any'}</option>)}
        </select></label>
        <label>Device id <input value={deviceInput} onChange={(e) => setDeviceInput(e.target.value)} placeholder="any" /></label>
        <button type="submit">Apply</button>
      </form>
      <LoadState error={list.error} loading={!certs && !list.error} what="certificates" />
      {certs && certs.length === 0 && <p>No certificates match.</p>}
      {certs && certs.length > 0 && (
        <div className="table-wrap"><table>
          <caption className="sr-only">Newest {LIMIT} certificates</caption>
          <thead><tr><th scope="col">Device</th><th scope="col">Subject</th><th scope="col">Chain</th><th scope="col">Expires</th><th scope="col">Status</th><th scope="col">Action</th></tr></thead>
          <tbody>{certs.map((c) => (
            <tr key={c.serial} data-serial={c.serial}>
              <td>{c.deviceId ? <Link to={`/devices/${encodeURIComponent(c.deviceId)}`}>{c.deviceId.slice(0, 12)}</Link> : '—'}</td>
              <td className="wrap">{c.subject}</td><td><Chain caName={c.caName} profile={c.profile} /></td><td>{expiry(c.notAfter)}</td>
              <td><span className={`badge cert-${c.status}`}>{c.status}</span>{c.revocationReason ? ` (${c.revocationReason})` : ''}</td>
              {/* CA, OCSP and TLS certificates of the platform itself are revoked with the CLI, deliberately not one click away. */}
              <td>{c.status === 'valid' && c.deviceId && can(props.role, 'certificate:revoke') ? <RevokeForm serial={c.serial} onDone={list.reload} /> : c.deviceId ? '—' : <small>platform (CLI)</small>}</td>
            </tr>
          ))}</tbody>
        </table></div>
      )}
      {certs && certs.length === LIMIT && <p>Showing the newest {LIMIT}; filter by device or status to narrow.</p>}
    </section>
  );
}

/** A one-time EST enrolment secret: the device enrols with it over HTTP Basic and receives its LDevID. */
function EnrollForm() {
  const [deviceId, setDeviceId] = useState('');
  const [ttl, setTtl] = useState('24');
  const [secret, setSecret] = useState<EnrollSecret | null>(null);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    setSecret(null);
    try {
      setSecret(await api.enrollToken(deviceId.trim(), Number(ttl)));
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <section aria-labelledby="enrol-h" className="card">
      <h2 id="enrol-h">Issue a certificate (enrolment secret)</h2>
      <form className="filters" onSubmit={(e) => void submit(e)}>
        <label>Device id <input required value={deviceId} onChange={(e) => setDeviceId(e.target.value)} /></label>
        <label>Valid for (hours) <input type="number" min={1} max={8760} required value={ttl} onChange={(e) => setTtl(e.target.value)} /></label>
        <button type="submit">Create secret</button>
      </form>
      {error && <p role="alert" className="error">{error}</p>}
      {secret && (
        <div role="status">
          <p>Shown once. The device calls EST <code>simpleenroll</code> with HTTP Basic:</p>
          <dl className="facts"><dt>Username</dt><dd><code>{secret.username}</code></dd><dt>Password</dt><dd><code>{secret.password}</code></dd><dt>Expires</dt><dd>{new Date(secret.expiresAt).toLocaleString()}</dd></dl>
        </div>
      )}
    </section>
  );
}
