import { useState } from 'react';
import { type Alert, api, errorText, type Role } from './api.ts';
import { Link } from './link.tsx';
import { can } from './nav.ts';

/** Alerts as a table, with an Acknowledge button on raised ones (alert:acknowledge). */
export function AlertTable(props: { alerts: readonly Alert[]; role: Role; onChanged: (a: Alert) => void }) {
  const [error, setError] = useState<string | null>(null);
  const ack = async (a: Alert) => {
    try {
      setError(null);
      props.onChanged(await api.acknowledge(a.id));
    } catch (e) {
      setError(errorText(e));
    }
  };
  if (props.alerts.length === 0) return <p>No alerts.</p>;
  return (
    <>
      {error && <p role="alert" className="error">{error}</p>}
      <div className="table-wrap"><table>
        <thead><tr><th scope="col">Priority</th><th scope="col">Raised</th><th scope="col">Device</th><th scope="col">What</th><th scope="col">State</th><th scope="col">Action</th></tr></thead>
        <tbody>{props.alerts.map((a) => (
          <tr key={a.id} data-alert-id={a.id}>
            <td><span className={`badge prio-${a.priority}`}>{a.priority}</span></td>
            <td>{new Date(a.raisedAt).toLocaleTimeString()}{a.repeatCount > 0 ? ` (×${a.repeatCount + 1})` : ''}</td>
            <td>{a.deviceId ? <Link to={`/devices/${encodeURIComponent(a.deviceId)}`}>{a.deviceId.slice(0, 8)}</Link> : '—'}</td>
            <td>{describe(a)}</td>
            <td><span className={`badge alert-${a.state}`}>{a.state}</span>{a.acknowledgedBy ? <small className="by">by {a.acknowledgedBy}</small> : null}</td>
            <td>{a.state === 'raised' && can(props.role, 'alert:acknowledge') ? <button type="button" onClick={() => void ack(a)}>Acknowledge</button> : '—'}</td>
          </tr>
        ))}</tbody>
      </table></div>
    </>
  );
}

function describe(a: Alert): string {
  const d = a.details;
  const text = [d.message, d.title, d.alarm, d.event, d.reason, d.metric, d.kind].find((v) => typeof v === 'string');
  const value = typeof d.value === 'number' ? ` = ${d.value}` : '';
  return `${typeof text === 'string' ? text : a.ruleId}${value}`;
}
