/** Typed client for the platform REST API (same origin, session cookie). */

export type Role = 'operator-admin' | 'security-analyst' | 'release-manager' | 'hospital-admin' | 'biomed' | 'clinician' | 'auditor' | 'device';

export interface Me { readonly kind: string; readonly id: string; readonly tenantId: string; readonly tenantKind: string; readonly role: Role }

export interface Device {
  readonly id: string; readonly serial: string; readonly model: string; readonly hardwareRevision: string | null;
  readonly tenantId: string | null; readonly siteId: string | null; readonly state: string; readonly firmwareVersion: string | null;
  readonly batchId: string | null; readonly createdAt: string; readonly updatedAt: string;
}
export interface DevicePage { readonly devices: Device[]; readonly next: string | null }

export interface Certificate {
  readonly serial: string; readonly caName: string; readonly profile: string; readonly deviceId: string | null; readonly subject: string;
  readonly notBefore: string; readonly notAfter: string; readonly status: string; readonly revokedAt: string | null; readonly revocationReason: string | null;
}

export interface Alert {
  readonly id: string; readonly tenantId: string; readonly ruleId: string; readonly deviceId: string | null; readonly patientId: string | null;
  readonly priority: 'high' | 'medium' | 'low'; readonly state: 'raised' | 'acknowledged' | 'resolved'; readonly raisedAt: string;
  readonly repeatCount: number; readonly acknowledgedAt: string | null; readonly acknowledgedBy: string | null; readonly escalationLevel: number;
  readonly details: Readonly<Record<string, unknown>>;
}

export interface Presence { readonly status: 'online' | 'late' | 'offline' | 'never-seen'; readonly lastSeenAt: number | null; readonly transport: string | null }
export type SeriesPoint =
  | { readonly kind: 'raw'; readonly t: number; readonly value: number }
  | { readonly kind: 'bucket'; readonly t: number; readonly avg: number; readonly min: number; readonly max: number; readonly count: number };

/** A coded error from the API: `{ error: { code, message } }`. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method, credentials: 'same-origin',
    headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (res.status === 204) return undefined as T;
  const json = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
  if (!res.ok) throw new ApiError(res.status, json.error?.code ?? 'HTTP_' + res.status, json.error?.message ?? res.statusText);
  return json as T;
}

const q = (params: Record<string, string | number | undefined>): string => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') s.set(k, String(v));
  const str = s.toString();
  return str ? `?${str}` : '';
};

export const api = {
  login: (email: string, password: string) => call<{ role: Role }>('POST', '/api/v1/auth/login', { email, password }),
  logout: () => call<void>('POST', '/api/v1/auth/logout'),
  me: () => call<Me>('GET', '/api/v1/auth/me'),
  devices: (f: { state?: string; model?: string; limit?: number; after?: string }) => call<DevicePage>('GET', `/api/v1/devices${q(f)}`),
  device: (id: string) => call<Device>('GET', `/api/v1/devices/${encodeURIComponent(id)}`),
  presence: (id: string) => call<Presence>('GET', `/api/v1/devices/${encodeURIComponent(id)}/presence`),
  telemetry: (id: string, metric: string, fromMs: number, toMs: number, bucketMs: number) =>
    call<{ points: SeriesPoint[] }>('GET', `/api/v1/devices/${encodeURIComponent(id)}/telemetry${q({ metric, from: fromMs, to: toMs, bucketMs })}`),
  certificates: (deviceId: string) => call<{ certificates: Certificate[] }>('GET', `/api/v1/certificates${q({ deviceId })}`),
  revoke: (serial: string, reason: string) => call<{ serial: string; reason: string; revokedAt: string }>('POST', `/api/v1/certificates/${encodeURIComponent(serial)}/revoke`, { reason }),
  vulnerabilities: (id: string) => call<Record<string, unknown>>('GET', `/api/v1/devices/${encodeURIComponent(id)}/vulnerabilities`),
  alerts: (f: { state?: string; deviceId?: string; limit?: number }) => call<{ alerts: Alert[] }>('GET', `/api/v1/alerts${q(f)}`),
  acknowledge: (id: string) => call<Alert>('POST', `/api/v1/alerts/${encodeURIComponent(id)}/acknowledge`),
  releases: () => call<Record<string, unknown>>('GET', '/api/v1/releases'),
  audit: () => call<Record<string, unknown>>('GET', '/api/v1/audit'),
  auditVerify: () => call<Record<string, unknown>>('GET', '/api/v1/audit/verify'),
};

/** Human message for an error thrown by `api`. */
export function errorText(e: unknown): string {
  if (e instanceof ApiError) return `${e.code}: ${e.message}`;
  return e instanceof Error ? e.message : String(e);
}
