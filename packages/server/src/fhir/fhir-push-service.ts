import { type Clock, openAes256Gcm, sealAes256Gcm, systemClock } from '@medtrust/core';
import type { Kysely } from 'kysely';
import type { AuditLog } from '../audit/index.ts';
import type { Database } from '../db/index.ts';
import type { PatientService } from '../patients/index.ts';
import { toObservation, toPatient } from './fhir-resources.ts';
import { samplesOfMessage } from './observation-source.ts';

export interface FhirPushOptions {
  readonly db: Kysely<Database>;
  readonly audit: AuditLog;
  readonly patients: PatientService;
  /** 32-byte key sealing endpoint credentials at rest. */
  readonly secretKey: () => Promise<Buffer>;
  readonly clock?: Clock;
  /**
   * Messages younger than this are left for the next run: sequence numbers can commit out of
   * order on PostgreSQL, and the cursor must never pass a row that is still to commit.
   */
  readonly settleMs?: number;
  readonly batchMessages?: number;
  readonly timeoutMs?: number;
}

/**
 * Outbound FHIR push: vitals of patient-bound devices are sent to the tenant's FHIR server as
 * transaction Bundles of PUTs (stable ids, so a retry never duplicates). The source is the
 * telemetry table itself with a per-endpoint cursor advanced only after a 2xx: nothing
 * acknowledged is ever skipped, whatever crashes or how long the EHR is down.
 */
export class FhirPushService {
  readonly #o: FhirPushOptions;
  readonly #clock: Clock;
  #running = false;

  constructor(opts: FhirPushOptions) {
    this.#o = opts;
    this.#clock = opts.clock ?? systemClock;
  }

  /** Sets (or replaces) the tenant's FHIR endpoint; pushing starts from messages stored from now on unless `fromStart`. */
  async configure(tenantId: string, baseUrl: string, authorization: string | undefined, actor: string, fromStart = false): Promise<void> {
    const u = new URL(baseUrl);
    const now = this.#clock.nowMs();
    let cursor = 0;
    if (!fromStart) {
      const max = await this.#o.db.selectFrom('telemetry_message').select((eb) => eb.fn.max('seq').as('m')).executeTakeFirst();
      cursor = Number(max?.m ?? 0);
    }
    const auth = authorization ? await this.#seal(tenantId, authorization) : null;
    await this.#o.db.deleteFrom('fhir_endpoint').where('tenant_id', '=', tenantId).execute();
    await this.#o.db.insertInto('fhir_endpoint').values({ tenant_id: tenantId, base_url: u.toString().replace(/\/$/, ''), auth_enc: auth, cursor_seq: cursor, enabled: 1, attempts: 0, next_attempt_at: now, last_error: null, last_success_at: null, updated_at: now }).execute();
    await this.#o.audit.append({ actor, action: 'fhir.push.configured', target: `tenant:${tenantId}`, tenantId, details: { baseUrl: u.origin + u.pathname, fromStart } });
  }

  async status(tenantId: string): Promise<{ baseUrl: string; cursorSeq: number; backlog: number; lastError: string | null; lastSuccessAt: number | null } | undefined> {
    const e = await this.#o.db.selectFrom('fhir_endpoint').selectAll().where('tenant_id', '=', tenantId).executeTakeFirst();
    if (!e) return undefined;
    const b = await this.#o.db.selectFrom('telemetry_message').select((eb) => eb.fn.countAll<number>().as('n')).where('tenant_id', '=', tenantId).where('kind', '=', 'vitals').where('seq', '>', e.cursor_seq).executeTakeFirst();
    return { baseUrl: e.base_url, cursorSeq: e.cursor_seq, backlog: Number(b?.n ?? 0), lastError: e.last_error, lastSuccessAt: e.last_success_at };
  }

  /** One pass over every due endpoint; returns the number of Observations delivered. */
  async pushDue(): Promise<number> {
    if (this.#running) return 0;
    this.#running = true;
    try {
      const now = this.#clock.nowMs();
      const endpoints = await this.#o.db.selectFrom('fhir_endpoint').selectAll().where('enabled', '=', 1).where('next_attempt_at', '<=', now).execute();
      let sent = 0;
      for (const e of endpoints) sent += await this.#pushEndpoint(e);
      return sent;
    } finally {
      this.#running = false;
    }
  }

  async #pushEndpoint(e: Database['fhir_endpoint']): Promise<number> {
    const settled = this.#clock.nowMs() - (this.#o.settleMs ?? 5_000);
    const rows = await this.#o.db.selectFrom('telemetry_message').select(['seq', 'device_id', 'device_ts', 'payload'])
      .where('tenant_id', '=', e.tenant_id).where('kind', '=', 'vitals').where('seq', '>', e.cursor_seq).where('received_at', '<=', settled)
      .orderBy('seq').limit(this.#o.batchMessages ?? 200).execute();
    if (rows.length === 0) return 0;
    const entries: Array<Record<string, unknown>> = [];
    const patientsIncluded = new Set<string>();
    for (const r of rows) {
      const ts = Number(r.device_ts);
      const patientId = await this.#o.patients.patientAt(r.device_id, ts);
      // Only patient data goes to the EHR: readings of unbound devices stay in the platform.
      if (!patientId) continue;
      if (!patientsIncluded.has(patientId)) {
        patientsIncluded.add(patientId);
        const p = await this.#o.patients.read(e.tenant_id, patientId, 'system:fhir-push', 'ehr-export');
        entries.push(putEntry(toPatient({ id: p.id, mrn: p.mrn, mrnSystem: p.mrnSystem, family: p.family, given: p.given, birthDate: p.birthDate })));
      }
      for (const s of samplesOfMessage(r.device_id, Number(r.seq), ts, patientId, r.payload)) entries.push(putEntry(toObservation(s)));
    }
    const lastSeq = Number(rows.at(-1)!.seq);
    const observations = entries.filter((x) => (x.resource as { resourceType: string }).resourceType === 'Observation').length;
    let error: string | null = null;
    if (entries.length > 0) {
      try {
        const auth = e.auth_enc ? await this.#open(e.tenant_id, e.auth_enc) : undefined;
        const res = await fetch(`${e.base_url}`, {
          method: 'POST', redirect: 'error', signal: AbortSignal.timeout(this.#o.timeoutMs ?? 15_000),
          headers: { 'content-type': 'application/fhir+json', accept: 'application/fhir+json', ...(auth ? { authorization: auth } : {}) },
          body: JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: entries }),
        });
        await res.arrayBuffer().catch(() => undefined);
        if (!res.ok) error = `HTTP ${res.status}`;
      } catch (err) {
        error = err instanceof Error ? err.message : String(err);
      }
    }
    const now = this.#clock.nowMs();
    if (error !== null) {
      const attempts = e.attempts + 1;
      const delay = Math.min(300_000, 1000 * 2 ** Math.min(attempts - 1, 12));
      await this.#o.db.updateTable('fhir_endpoint').set({ attempts, next_attempt_at: now + delay, last_error: error.slice(0, 500), updated_at: now }).where('tenant_id', '=', e.tenant_id).execute();
      return 0;
    }
    // Only after the server accepted the whole transaction does the cursor move.
    await this.#o.db.updateTable('fhir_endpoint').set({ cursor_seq: lastSeq, attempts: 0, next_attempt_at: now, last_error: null, last_success_at: now, updated_at: now })
      .where('tenant_id', '=', e.tenant_id).where('cursor_seq', '=', e.cursor_seq).execute();
    return observations;
  }

  async #seal(tenantId: string, value: string): Promise<Buffer> {
    return sealAes256Gcm(await this.#o.secretKey(), value, `fhir-endpoint:${tenantId}`);
  }

  async #open(tenantId: string, sealed: Buffer): Promise<string> {
    return openAes256Gcm(await this.#o.secretKey(), sealed, `fhir-endpoint:${tenantId}`).toString('utf8');
  }
}

function putEntry(resource: Record<string, unknown>): Record<string, unknown> {
  const type = String(resource.resourceType);
  const id = String(resource.id);
  return { fullUrl: `${type}/${id}`, resource, request: { method: 'PUT', url: `${type}/${id}` } };
}

