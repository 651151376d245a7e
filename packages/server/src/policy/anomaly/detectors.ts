import { normaliseAddress } from '../condition.ts';

/** A refused connection attempt, as the gateway audits it. */
export interface AuthFailure {
  readonly atMs: number;
  readonly deviceId: string | null;
  readonly remoteAddress: string | null;
}

export interface AuthFailureBurst {
  readonly by: 'device' | 'address';
  readonly subject: string;
  readonly count: number;
  readonly firstMs: number;
  /** When the count reached the threshold. */
  readonly reachedMs: number;
}

/**
 * Failed-authentication bursts: `threshold` or more refusals within any `windowMs`, per device and
 * per remote address (one burst per subject: the first window that reaches the threshold).
 */
export function authFailureBursts(failures: readonly AuthFailure[], o: { windowMs: number; threshold: number }): AuthFailureBurst[] {
  const groups = new Map<string, { by: 'device' | 'address'; subject: string; times: number[] }>();
  const add = (by: 'device' | 'address', subject: string, at: number): void => {
    const k = `${by}\u0000${subject}`;
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { by, subject, times: [] }));
    g.times.push(at);
  };
  for (const f of failures) {
    if (f.deviceId) add('device', f.deviceId, f.atMs);
    if (f.remoteAddress) add('address', normaliseAddress(f.remoteAddress), f.atMs);
  }
  const out: AuthFailureBurst[] = [];
  for (const g of groups.values()) {
    const t = g.times.sort((a, b) => a - b);
    // Two pointers: the window [t[lo], t[hi]] slides; the first time it holds `threshold` is the burst.
    for (let lo = 0, hi = 0; hi < t.length; hi++) {
      while ((t[hi] as number) - (t[lo] as number) > o.windowMs) lo++;
      if (hi - lo + 1 >= o.threshold) {
        let end = hi;
        while (end + 1 < t.length && (t[end + 1] as number) - (t[lo] as number) <= o.windowMs) end++;
        out.push({ by: g.by, subject: g.subject, count: end - lo + 1, firstMs: t[lo] as number, reachedMs: t[hi] as number });
        break;
      }
    }
  }
  return out.sort((a, b) => a.reachedMs - b.reachedMs || a.subject.localeCompare(b.subject));
}

/** One row of connection history. */
export interface ConnectionSpan {
  readonly id: number;
  readonly deviceId: string;
  readonly certSerial: string;
  readonly remoteAddress: string | null;
  readonly connectedAt: number;
  /** null while still connected. */
  readonly disconnectedAt: number | null;
}

export interface ClonedCertificate {
  readonly certSerial: string;
  readonly deviceId: string;
  readonly addresses: readonly [string, string];
  readonly connectionIds: readonly [number, number];
  /** When the two connections began to overlap. */
  readonly atMs: number;
}

/**
 * A cloned device: two connections with the same certificate serial, open at the same time, from
 * different remote addresses (the same address twice is a reconnect or a second session).
 */
export function clonedCertificates(spans: readonly ConnectionSpan[]): ClonedCertificate[] {
  const bySerial = new Map<string, ConnectionSpan[]>();
  for (const s of spans) {
    if (s.remoteAddress === null) continue;
    const list = bySerial.get(s.certSerial) ?? [];
    list.push(s);
    bySerial.set(s.certSerial, list);
  }
  const out: ClonedCertificate[] = [];
  for (const [serial, list] of bySerial) {
    list.sort((a, b) => a.connectedAt - b.connectedAt || a.id - b.id);
    for (let i = 0; i < list.length; i++) {
      const a = list[i] as ConnectionSpan;
      const aEnd = a.disconnectedAt ?? Number.POSITIVE_INFINITY;
      for (let j = i + 1; j < list.length; j++) {
        const b = list[j] as ConnectionSpan;
        if (b.connectedAt >= aEnd) break;
        const [x, y] = [normaliseAddress(a.remoteAddress as string), normaliseAddress(b.remoteAddress as string)];
        if (x === y) continue;
        out.push({ certSerial: serial, deviceId: a.deviceId, addresses: [x, y], connectionIds: [a.id, b.id], atMs: b.connectedAt });
      }
    }
  }
  return out;
}

/** Messages of one device in one window. */
export interface RateSample {
  readonly deviceId: string;
  readonly model: string;
  readonly count: number;
}

/** Per model, the median messages per device per window: robust to the few outliers it watches for. */
export function modelBaselines(history: readonly RateSample[], minSamples = 10): Map<string, number> {
  const byModel = new Map<string, number[]>();
  for (const h of history) byModel.set(h.model, [...(byModel.get(h.model) ?? []), h.count]);
  const out = new Map<string, number>();
  for (const [model, counts] of byModel) {
    // Too little history is no baseline: a new model raises nothing until it has one.
    if (counts.length < minSamples) continue;
    counts.sort((a, b) => a - b);
    const mid = Math.floor(counts.length / 2);
    out.set(model, counts.length % 2 === 1 ? (counts[mid] as number) : ((counts[mid - 1] as number) + (counts[mid] as number)) / 2);
  }
  return out;
}

export interface RateAnomaly {
  readonly deviceId: string;
  readonly model: string;
  readonly count: number;
  readonly baseline: number;
}

/** Devices sending more than `factor` x their model's baseline (and at least `minCount`) in the window. */
export function messageRateAnomalies(current: readonly RateSample[], baselines: ReadonlyMap<string, number>, o: { factor: number; minCount: number }): RateAnomaly[] {
  const out: RateAnomaly[] = [];
  for (const c of current) {
    const base = baselines.get(c.model);
    if (base === undefined || c.count < o.minCount) continue;
    if (c.count > o.factor * Math.max(base, 1)) out.push({ deviceId: c.deviceId, model: c.model, count: c.count, baseline: base });
  }
  return out;
}

/** A command as the time detector sees it. */
export interface CommandTime {
  readonly id: string;
  readonly tenantId: string;
  readonly deviceId: string;
  readonly atMs: number;
}

export interface UnusualCommand {
  readonly commandId: string;
  readonly tenantId: string;
  readonly deviceId: string;
  readonly hour: number;
  /** Share of the tenant's past commands in this hour and the two beside it. */
  readonly share: number;
  readonly history: number;
}

/**
 * Commands at hours a tenant rarely commands: the share of its history in the command's hour (and
 * the neighbouring hours, so a shift edge is not unusual) is below `minShare`. Hours are in the
 * tenant's time zone when `timeZoneOf` gives one, else UTC. No judgement before `minHistory`.
 */
export function unusualCommandTimes(history: readonly CommandTime[], recent: readonly CommandTime[], o: { minHistory: number; minShare: number; timeZoneOf?: (tenantId: string) => string | undefined }): UnusualCommand[] {
  const hourOf = hourFormatter(o.timeZoneOf);
  const hist = new Map<string, number[]>();
  for (const h of history) {
    const bins = hist.get(h.tenantId) ?? new Array<number>(24).fill(0);
    const hour = hourOf(h.tenantId, h.atMs);
    bins[hour] = (bins[hour] as number) + 1;
    hist.set(h.tenantId, bins);
  }
  const out: UnusualCommand[] = [];
  for (const c of recent) {
    const bins = hist.get(c.tenantId);
    const total = bins?.reduce((a, b) => a + b, 0) ?? 0;
    if (!bins || total < o.minHistory) continue;
    const hour = hourOf(c.tenantId, c.atMs);
    const near = (bins[(hour + 23) % 24] as number) + (bins[hour] as number) + (bins[(hour + 1) % 24] as number);
    const share = near / total;
    if (share < o.minShare) out.push({ commandId: c.id, tenantId: c.tenantId, deviceId: c.deviceId, hour, share, history: total });
  }
  return out;
}

function hourFormatter(timeZoneOf?: (tenantId: string) => string | undefined): (tenantId: string, atMs: number) => number {
  const cache = new Map<string, Intl.DateTimeFormat>();
  return (tenantId, atMs) => {
    const tz = timeZoneOf?.(tenantId);
    if (!tz) return new Date(atMs).getUTCHours();
    let f = cache.get(tz);
    if (!f) cache.set(tz, (f = new Intl.DateTimeFormat('en-GB', { timeZone: tz, hour: 'numeric', hourCycle: 'h23' })));
    return Number(f.format(atMs)) % 24;
  };
}
