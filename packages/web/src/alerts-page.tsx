import { useEffect, useState } from 'react';
import { type Alert, api, errorText, type Role } from './api.ts';
import { AlertTable } from './alert-table.tsx';

type StreamState = 'connecting' | 'live' | 'reconnecting';

/** Open alerts, kept current by the SSE stream (`event: alert`, data {change, alert}). */
export function AlertsPage(props: { role: Role }) {
  const [alerts, setAlerts] = useState<Alert[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [stream, setStream] = useState<StreamState>('connecting');

  useEffect(() => {
    let live = true;
    const upsert = (a: Alert) => setAlerts((list) => {
      const rest = (list ?? []).filter((x) => x.id !== a.id);
      // Resolved alerts leave the console; raised and acknowledged stay, newest first.
      return a.state === 'resolved' ? rest : [a, ...rest].sort((x, y) => y.raisedAt.localeCompare(x.raisedAt));
    });
    const source = new EventSource('/api/v1/alerts/stream');
    source.onopen = () => {
      setStream('live');
      // (Re)load after (re)connecting so nothing raised while disconnected is missed.
      api.alerts({ state: 'open', limit: 200 }).then((r) => live && setAlerts(r.alerts), (e: unknown) => live && setError(errorText(e)));
    };
    source.onerror = () => setStream('reconnecting');
    source.addEventListener('alert', (ev: MessageEvent<string>) => {
      const data = JSON.parse(ev.data) as { change: string; alert: Alert };
      upsert(data.alert);
    });
    return () => { live = false; source.close(); };
  }, []);

  return (
    <section>
      <h1>Live alerts</h1>
      <p className={`stream stream-${stream}`} role="status">Stream: {stream}</p>
      {error && <p role="alert" className="error">{error}</p>}
      {alerts === null ? <p>Loading…</p> : <AlertTable alerts={alerts} role={props.role} onChanged={(a) => setAlerts((l) => l?.map((x) => (x.id === a.id ? a : x)) ?? null)} />}
    </section>
  );
}
