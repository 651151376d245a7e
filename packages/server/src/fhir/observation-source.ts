import type { Kysely } from 'kysely';
import type { Database } from '../db/index.ts';
import type { VitalSample } from './fhir-resources.ts';
import { fhirId } from './fhir-resources.ts';
import type { VitalKind } from './vital-codes.ts';

/** The part of a stored vitals message the mapper reads (telemetry protocol v1). */
interface StoredVitals {
  readonly vitals?: {
    readonly heartRate?: { value: number };
    readonly spo2?: { value: number };
    readonly bodyTemperature?: { value: number };
    readonly nibp?: { systolic: number; diastolic: number; mean?: number };
    readonly respiratoryRate?: { value: number };
    readonly glucose?: { value: number };
  };
}

const ABBR: { readonly [K in VitalKind]: string } = { 'heart-rate': 'hr', spo2: 'spo2', 'body-temperature': 'temp', 'blood-pressure': 'bp', 'respiratory-rate': 'rr', glucose: 'glu' };
const KIND_OF_ABBR = new Map(Object.entries(ABBR).map(([k, a]) => [a, k as VitalKind]));

/** Observation id: `<device fhir id>.<message seq>.<vital>`; reversible, within FHIR's 64 chars. */
export function observationId(deviceId: string, seq: number, kind: VitalKind): string {
  return `${fhirId(deviceId)}.${seq}.${ABBR[kind]}`;
}

export function parseObservationId(id: string): { deviceId: string; seq: number; kind: VitalKind } | undefined {
  const m = /^([a-z]+-[0-9a-z]+)\.(\d{1,15})\.([a-z0-9]+)$/.exec(id);
  const kind = m ? KIND_OF_ABBR.get(m[3]!) : undefined;
  if (!m || !kind) return undefined;
  return { deviceId: m[1]!.replace(/-/g, '_'), seq: Number(m[2]), kind };
}

/** The vitals one stored message holds, as mapper samples. */
export function samplesOfMessage(deviceId: string, seq: number, atMs: number, patientId: string | null, payload: string): VitalSample[] {
  const v = (JSON.parse(payload) as StoredVitals).vitals;
  if (!v) return [];
  const base = { deviceId, patientId, atMs };
  const out: VitalSample[] = [];
  if (v.heartRate) out.push({ ...base, id: observationId(deviceId, seq, 'heart-rate'), kind: 'heart-rate', value: v.heartRate.value });
  if (v.spo2) out.push({ ...base, id: observationId(deviceId, seq, 'spo2'), kind: 'spo2', value: v.spo2.value });
  if (v.bodyTemperature) out.push({ ...base, id: observationId(deviceId, seq, 'body-temperature'), kind: 'body-temperature', value: v.bodyTemperature.value });
  if (v.nibp) out.push({ ...base, id: observationId(deviceId, seq, 'blood-pressure'), kind: 'blood-pressure', systolic: v.nibp.systolic, diastolic: v.nibp.diastolic, ...(v.nibp.mean === undefined ? {} : { mean: v.nibp.mean }) });
  if (v.respiratoryRate) out.push({ ...base, id: observationId(deviceId, seq, 'respiratory-rate'), kind: 'respiratory-rate', value: v.respiratoryRate.value });
  if (v.glucose) out.push({ ...base, id: observationId(deviceId, seq, 'glucose'), kind: 'glucose', value: v.glucose.value });
  return out;
}

/**
 * Reads vitals messages for FHIR: the read model over the telemetry store. Pages are cut in
 * (device time, seq) order so a page boundary never splits or repeats a message.
 */
export class ObservationSource {
  readonly #db: Kysely<Database>;

  constructor(opts: { db: Kysely<Database> }) {
    this.#db = opts.db;
  }

  async messagesOf(deviceId: string, fromMs: number, toMs: number, afterKey: { ts: number; seq: number } | undefined, limit: number): Promise<Array<{ seq: number; ts: number; tenantId: string; payload: string }>> {
    let q = this.#db.selectFrom('telemetry_message').select(['seq', 'device_ts', 'tenant_id', 'payload'])
      .where('device_id', '=', deviceId).where('kind', '=', 'vitals').where('device_ts', '>=', fromMs).where('device_ts', '<', toMs);
    if (afterKey) q = q.where((eb) => eb.or([eb('device_ts', '>', afterKey.ts), eb.and([eb('device_ts', '=', afterKey.ts), eb('seq', '>', afterKey.seq)])]));
    const rows = await q.orderBy('device_ts').orderBy('seq').limit(limit).execute();
    return rows.map((r) => ({ seq: Number(r.seq), ts: Number(r.device_ts), tenantId: r.tenant_id, payload: r.payload }));
  }

  async message(deviceId: string, seq: number): Promise<{ ts: number; tenantId: string; payload: string } | undefined> {
    const r = await this.#db.selectFrom('telemetry_message').select(['device_ts', 'tenant_id', 'payload']).where('device_id', '=', deviceId).where('seq', '=', seq).where('kind', '=', 'vitals').executeTakeFirst();
    return r ? { ts: Number(r.device_ts), tenantId: r.tenant_id, payload: r.payload } : undefined;
  }
}
