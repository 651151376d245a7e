import { useEffect, useState } from 'react';
import { api, errorText, type SeriesPoint } from './api.ts';

const WINDOW_MS = 60 * 60_000;
const BUCKET_MS = 60_000;
const REFRESH_MS = 10_000;
const W = 640;
const H = 200;
const PAD = 36;

/**
 * One metric over the last hour, downsampled by the API (avg with a min–max band per minute),
 * re-fetched every 10 s. Drawn by hand in SVG: a line and a band need no charting library.
 */
export function VitalsChart(props: { deviceId: string; metric: string; label: string; unit: string }) {
  const [points, setPoints] = useState<SeriesPoint[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    const load = () => {
      const to = Date.now();
      api.telemetry(props.deviceId, props.metric, to - WINDOW_MS, to, BUCKET_MS).then((r) => live && (setPoints(r.points), setError(null)), (e: unknown) => live && setError(errorText(e)));
    };
    load();
    const timer = setInterval(load, REFRESH_MS);
    return () => { live = false; clearInterval(timer); };
  }, [props.deviceId, props.metric]);

  if (error) return <p className="error" role="alert">{props.label}: {error}</p>;
  if (!points) return <p role="status">Loading {props.label}…</p>;
  if (points.length === 0) return <p>No {props.label} in the last hour.</p>;
  const vals = points.map(avgOf);
  const lows = points.map((p) => (p.kind === 'bucket' ? p.min : p.value));
  const highs = points.map((p) => (p.kind === 'bucket' ? p.max : p.value));
  const lo = Math.min(...lows);
  const hi = Math.max(...highs);
  const span = hi - lo || 1;
  const t1 = Date.now();
  const t0 = t1 - WINDOW_MS;
  const x = (t: number) => PAD + ((t - t0) / WINDOW_MS) * (W - 2 * PAD);
  const y = (v: number) => H - PAD + -((v - lo) / span) * (H - 2 * PAD);
  const line = points.map((p, i) => `${x(p.t).toFixed(1)},${y(vals[i]!).toFixed(1)}`).join(' ');
  const band = [...points.map((p, i) => `${x(p.t).toFixed(1)},${y(highs[i]!).toFixed(1)}`), ...points.map((p, i) => `${x(p.t).toFixed(1)},${y(lows[i]!).toFixed(1)}`).reverse()].join(' ');
  const last = vals[vals.length - 1]!;
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${props.label}, last hour: latest ${round(last)} ${props.unit}, range ${round(lo)} to ${round(hi)}`}>
        <polygon points={band} className="band" />
        <polyline points={line} className="line" />
        <line x1={PAD} x2={W - PAD} y1={H - PAD} y2={H - PAD} className="axis" />
        <text x={4} y={y(hi) + 4}>{round(hi)}</text>
        <text x={4} y={y(lo) + 4}>{round(lo)}</text>
        <text x={PAD} y={H - 10}>−60 min</text>
        <text x={W - PAD} y={H - 10} textAnchor="end">now</text>
      </svg>
      <figcaption>{props.label}: <strong>{round(last)}</strong> {props.unit} (1-minute average, band = min–max)</figcaption>
    </figure>
  );
}

const avgOf = (p: SeriesPoint): number => (p.kind === 'bucket' ? p.avg : p.value);
const round = (v: number): string => (Math.round(v * 10) / 10).toString();
