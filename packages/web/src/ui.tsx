import { type DependencyList, useEffect, useState } from 'react';
import { errorText } from './api.ts';

/** Loads once per change of `deps`; ignores answers that arrive after the view moved on. */
export function useLoad<T>(load: () => Promise<T>, deps: DependencyList): { data: T | null; error: string | null; reload: () => void } {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setError(null);
    load().then((d) => live && setData(d), (e: unknown) => live && setError(errorText(e)));
    return () => { live = false; };
  }, [...deps, tick]);
  return { data, error, reload: () => setTick((t) => t + 1) };
}

/** Error or loading line for a `useLoad` result. */
export function LoadState(props: { error: string | null; loading: boolean; what: string }) {
  if (props.error) return <p role="alert" className="error">{props.what}: {props.error}</p>;
  if (props.loading) return <p role="status">Loading {props.what}…</p>;
  return null;
}

/**
 * Counts as horizontal bars. A list with the number in text, so it reads the same without the
 * bars (screen readers, high-contrast modes); the bar is decoration.
 */
export function BarList(props: { title: string; rows: ReadonlyArray<{ readonly label: string; readonly count: number; readonly tone?: string }>; total: number; max?: number }) {
  const shown = props.rows.slice(0, props.max ?? 8);
  const rest = props.rows.slice(shown.length).reduce((n, r) => n + r.count, 0);
  const top = Math.max(1, ...props.rows.map((r) => r.count));
  return (
    <figure className="bars">
      <figcaption>{props.title}</figcaption>
      <ul>
        {shown.map((r) => (
          <li key={r.label}>
            <span className="bar-label">{r.label}</span>
            <span className="bar-track" aria-hidden="true"><span className={`bar-fill ${r.tone ?? ''}`} style={{ width: `${(100 * r.count) / top}%` }} /></span>
            <span className="bar-count">{r.count.toLocaleString()}<span className="sr-only"> of {props.total.toLocaleString()}</span></span>
          </li>
        ))}
        {rest > 0 && <li><span className="bar-label">other</span><span className="bar-track" aria-hidden="true" /><span className="bar-count">{rest.toLocaleString()}</span></li>}
      </ul>
    </figure>
  );
}

export const dateTime = (ms: number | string): string => new Date(ms).toLocaleString();
