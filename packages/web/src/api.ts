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

export interface Count { readonly key: string | null; readonly count: number }
export interface FleetSummary { readonly total: number; readonly byState: Count[]; readonly byModel: Count[]; readonly bySite: Array<Count & { readonly name: string | null }>; readonly byPresence: Count[] }
export interface FirmwareExposure { readonly model: string; readonly firmwareVersion: string; readonly devices: number; readonly affected: number; readonly unknown: number; readonly kev: number }
export interface Vulnerability {
  readonly vulnId: string; readonly status: string; readonly summary: string; readonly kev: boolean; readonly epss: number | null; readonly cvss31Vector: string | null;
  readonly aliases?: readonly string[]; readonly analysis: { readonly status: string; readonly justification?: string | null } | null;
  readonly components?: ReadonlyArray<{ readonly name: string; readonly version: string }>;
}
export interface Release {
  readonly id: string; readonly version: string; readonly models: readonly string[]; readonly fileName: string; readonly length: number; readonly sha256: string;
  readonly notes: string; readonly sbom: { readonly fileName: string } | null; readonly state: string; readonly createdAt: number; readonly publishedAt: number | null;
}
export type UpdateStatus = 'pending' | 'downloading' | 'installing' | 'installed' | 'failed' | 'rolled-back';
export interface Campaign {
  readonly id: string; readonly releaseId: string; readonly name: string; readonly state: string; readonly emergency: boolean; readonly phases: readonly number[];
  readonly currentPhase: number; readonly pausedReason: string | null; readonly counts: Readonly<Record<UpdateStatus, number>>; readonly createdAt?: string;
}
export interface AuditEntry { readonly seq: number; readonly at: string; readonly tenantId: string | null; readonly actor: string; readonly action: string; readonly target: string | null; readonly outcome: string; readonly details: unknown }
export type AuditVerification =
  | { readonly ok: true; readonly entries: number; readonly checkpoints: number; readonly latestCheckpoint: number | null }
  | { readonly ok: false; readonly entries: number; readonly checkpoints: number; readonly problem: { readonly kind: string; readonly seq: number }; readonly description?: string };
export interface Policy { readonly id: string; readonly name: string; readonly version: number; readonly enabled: boolean; readonly document: { readonly description?: string; readonly trigger?: unknown; readonly rules?: ReadonlyArray<{ readonly name: string }> }; readonly createdAt: number; readonly createdBy: string }
export interface DryRun { readonly policy: string; readonly devices: number; readonly hits: ReadonlyArray<{ readonly deviceId: string; readonly rule: string; readonly reason: readonly string[]; readonly actions: ReadonlyArray<{ readonly kind: string }>; readonly alreadyDecided: boolean }> }
export interface Patient { readonly id: string; readonly mrn: string; readonly mrnSystem: string; readonly family: string; readonly given: readonly string[]; readonly birthDate: string }
export interface Binding { readonly id: string; readonly patientId: string; readonly deviceId: string; readonly fromMs: number; readonly toMs: number | null }
export interface EnrollSecret { readonly username: string; readonly password: string; readonly deviceId: string; readonly expiresAt: number }

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
  presenceOf: (ids: readonly string[]) => call<{ presence: Array<{ deviceId: string; status: Presence['status']; lastSeenAt: number | null }> }>('GET', `/api/v1/devices/presence${q({ ids: ids.join(',') })}`),
  fleetSummary: () => call<FleetSummary>('GET', '/api/v1/devices/summary'),
  fleetExposure: () => call<{ firmwares: FirmwareExposure[] }>('GET', '/api/v1/vulnerabilities'),
  firmwareVulnerabilities: (model: string, version: string) => call<{ devices: number; vulnerabilities: Vulnerability[] }>('GET', `/api/v1/vulnerabilities${q({ model, version })}`),
  advisory: (vulnId: string) => call<Record<string, unknown>>('POST', `/api/v1/vulnerabilities/${encodeURIComponent(vulnId)}/advisory`),
  certificateList: (f: { status?: string; deviceId?: string; limit?: number }) => call<{ certificates: Certificate[] }>('GET', `/api/v1/certificates${q(f)}`),
  enrollToken: (deviceId: string, ttlHours: number) => call<EnrollSecret>('POST', `/api/v1/devices/${encodeURIComponent(deviceId)}/enroll-tokens`, { ttlHours }),
  releases: (f: { state?: string } = {}) => call<{ releases: Release[] }>('GET', `/api/v1/releases${q(f)}`),
  campaigns: (before?: string) => call<{ campaigns: Campaign[]; next: string | null }>('GET', `/api/v1/campaigns${q({ limit: 20, before })}`),
  startCampaign: (body: { releaseId: string; name: string; selection: { model: string }; phases: number[] }) => call<Campaign>('POST', '/api/v1/campaigns', body),
  approveCampaign: (id: string) => call<Campaign>('POST', `/api/v1/campaigns/${encodeURIComponent(id)}/approve`),
  resumeCampaign: (id: string) => call<Campaign>('POST', `/api/v1/campaigns/${encodeURIComponent(id)}/resume`),
  audit: (f: { target?: string; action?: string; since?: number; limit?: number }) => call<{ entries: AuditEntry[]; next: number | null }>('GET', `/api/v1/audit${q(f)}`),
  auditVerify: () => call<AuditVerification>('GET', '/api/v1/audit/verify'),
  policies: () => call<{ policies: Policy[] }>('GET', '/api/v1/policies'),
  dryRun: (document: string) => call<DryRun>('POST', '/api/v1/policies/dry-run', { document }),
  patientByMrn: (mrn: string) => call<{ id: string }>('GET', `/api/v1/patients${q({ mrn })}`),
  patient: (id: string) => call<Patient>('GET', `/api/v1/patients/${encodeURIComponent(id)}`),
  bindings: (id: string) => call<{ bindings: Binding[] }>('GET', `/api/v1/patients/${encodeURIComponent(id)}/bindings`),
};

/** Human message for an error thrown by `api`. */
export function errorText(e: unknown): string {
  if (e instanceof ApiError) return `${e.code}: ${e.message}`;
  return e instanceof Error ? e.message : String(e);
}
