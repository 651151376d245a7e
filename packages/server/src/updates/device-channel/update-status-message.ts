import type { DeviceUpdateStatus } from '../campaigns/campaign-service.ts';
import { THERAPY_RUNNING } from '../campaigns/campaign-service.ts';

/** Device to platform, on `devices/{id}/update-status` (docs/updates.md, Desired state over MQTT). */
export type UpdateStatusMessage =
  | { readonly kind: 'check' }
  | { readonly kind: 'status'; readonly campaignId: string; readonly status: DeviceUpdateStatus; readonly detail: string | null };

const STATUSES: ReadonlySet<string> = new Set<DeviceUpdateStatus>(['pending', 'downloading', 'installing', 'installed', 'failed', 'rolled-back']);
const ID_RE = /^[A-Za-z0-9_-]{1,64}$/;
const CODE_RE = /^[A-Z][A-Z0-9_]{0,63}$/;
const MAX_BYTES = 2048;

/** Parses and checks a status message; undefined when it is not one (the caller refuses it). */
export function parseUpdateStatus(payload: Buffer): UpdateStatusMessage | undefined {
  if (payload.length > MAX_BYTES) return undefined;
  let m: unknown;
  try {
    m = JSON.parse(payload.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return undefined;
  const o = m as Record<string, unknown>;
  if (o.v !== 1) return undefined;
  if (o.kind === 'check') return { kind: 'check' };
  if (typeof o.kind !== 'string' || !STATUSES.has(o.kind) || typeof o.campaignId !== 'string' || !ID_RE.test(o.campaignId)) return undefined;
  const status = o.kind as DeviceUpdateStatus;
  // `pending` with reason therapy-running is the clinical safety gate ("deferred for therapy").
  if (o.reason !== undefined && !(status === 'pending' && o.reason === THERAPY_RUNNING)) return undefined;
  if (o.code !== undefined && (typeof o.code !== 'string' || !CODE_RE.test(o.code))) return undefined;
  const detail = o.reason === THERAPY_RUNNING ? THERAPY_RUNNING : typeof o.code === 'string' ? o.code : null;
  return { kind: 'status', campaignId: o.campaignId, status, detail };
}
