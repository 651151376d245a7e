/** Local hours during which installs may start: [startHour, endHour), wrapping past midnight. */
export interface MaintenanceWindow {
  readonly startHour: number;
  readonly endHour: number;
}

/** The hour (0-23) at `nowMs` in an IANA time zone; UTC when the zone is absent or unknown. */
export function localHour(nowMs: number, timeZone: string | null): number {
  try {
    const h = new Intl.DateTimeFormat('en-GB', { timeZone: timeZone ?? 'UTC', hour: '2-digit', hourCycle: 'h23' }).format(nowMs);
    return Number(h);
  } catch {
    return new Date(nowMs).getUTCHours();
  }
}

/** Whether `nowMs` falls in the window in the site's time zone. */
export function inWindow(w: MaintenanceWindow, nowMs: number, timeZone: string | null): boolean {
  const h = localHour(nowMs, timeZone);
  return w.startHour <= w.endHour ? h >= w.startHour && h < w.endHour : h >= w.startHour || h < w.endHour;
}

export function isWindow(w: unknown): w is MaintenanceWindow {
  const o = w as MaintenanceWindow;
  return typeof o === 'object' && o !== null && [o.startHour, o.endHour].every((x) => Number.isInteger(x) && x >= 0 && x <= 23) && o.startHour !== o.endHour;
}
