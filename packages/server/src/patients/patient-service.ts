import { type Clock, newId, systemClock } from '@medtrust/core';
import type { Kysely } from 'kysely';
import type { AuditLog } from '../audit/index.ts';
import type { Database } from '../db/index.ts';
import { PatientError } from './errors.ts';
import type { PhiCipher } from './phi-cipher.ts';

export interface PatientInput {
  readonly mrn: string;
  readonly mrnSystem?: string;
  readonly family: string;
  readonly given: readonly string[];
  /** YYYY-MM-DD */
  readonly birthDate: string;
}

export interface Patient extends PatientInput {
  readonly id: string;
  readonly tenantId: string;
  readonly mrnSystem: string;
}

export interface Binding {
  readonly id: string;
  readonly patientId: string;
  readonly deviceId: string;
  readonly fromMs: number;
  readonly toMs: number | null;
}

const DATE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;

/**
 * Patients with their identifying fields sealed at rest, and device-to-patient bindings over
 * time so every observation is attributed to the patient the device was on when it was taken.
 * Every read of PHI is audited with who read which patient (never the values).
 */
export class PatientService {
  readonly #db: Kysely<Database>;
  readonly #audit: AuditLog;
  readonly #clock: Clock;
  readonly #cipher: () => Promise<PhiCipher>;

  constructor(opts: { db: Kysely<Database>; audit: AuditLog; cipher: () => Promise<PhiCipher>; clock?: Clock }) {
    this.#db = opts.db;
    this.#audit = opts.audit;
    this.#cipher = opts.cipher;
    this.#clock = opts.clock ?? systemClock;
  }

  async create(tenantId: string, p: PatientInput, actor: string): Promise<{ id: string }> {
    const problems: string[] = [];
    if (typeof p.mrn !== 'string' || p.mrn.trim() === '' || p.mrn.length > 64) problems.push('mrn');
    if (typeof p.family !== 'string' || p.family.trim() === '' || p.family.length > 200) problems.push('family');
    if (!Array.isArray(p.given) || p.given.some((g) => typeof g !== 'string' || g.length > 200)) problems.push('given');
    if (typeof p.birthDate !== 'string' || !DATE.test(p.birthDate) || Number.isNaN(Date.parse(p.birthDate))) problems.push('birthDate');
    if (problems.length > 0) throw new PatientError('PATIENT_INVALID', `invalid: ${problems.join(', ')}`, { details: { fields: problems } });
    const cipher = await this.#cipher();
    const id = newId('pat');
    const mrnHmac = cipher.mrnIndex(tenantId, p.mrn);
    const exists = await this.#db.selectFrom('patient').select('id').where('tenant_id', '=', tenantId).where('mrn_hmac', '=', mrnHmac).executeTakeFirst();
    if (exists) throw new PatientError('PATIENT_EXISTS', 'a patient with this MRN exists', { details: { id: exists.id } });
    await this.#db.insertInto('patient').values({
      id, tenant_id: tenantId, mrn_hmac: mrnHmac, mrn_enc: cipher.seal(id, 'mrn', p.mrn.trim()), family_enc: cipher.seal(id, 'family', p.family.trim()),
      given_enc: cipher.seal(id, 'given', JSON.stringify(p.given)), birth_date_enc: cipher.seal(id, 'birthDate', p.birthDate), mrn_system: p.mrnSystem ?? 'urn:medtrust:mrn',
      created_at: this.#clock.nowMs(), created_by: actor,
    }).execute();
    await this.#audit.append({ actor, action: 'phi.patient.created', target: `patient:${id}`, tenantId });
    return { id };
  }

  /** Decrypts a patient for `actor`; the read is audited (PHI access log). */
  async read(tenantScope: string, id: string, actor: string, purpose: string): Promise<Patient> {
    const row = await this.#db.selectFrom('patient').selectAll().where('id', '=', id).where('tenant_id', '=', tenantScope).executeTakeFirst();
    if (!row) throw new PatientError('PATIENT_NOT_FOUND', `no patient ${id}`);
    const c = await this.#cipher();
    const patient: Patient = {
      id, tenantId: row.tenant_id, mrnSystem: row.mrn_system, mrn: c.open(id, 'mrn', row.mrn_enc), family: c.open(id, 'family', row.family_enc),
      given: JSON.parse(c.open(id, 'given', row.given_enc)) as string[], birthDate: c.open(id, 'birthDate', row.birth_date_enc),
    };
    await this.#audit.append({ actor, action: 'phi.patient.read', target: `patient:${id}`, tenantId: row.tenant_id, details: { purpose } });
    return patient;
  }

  async findByMrn(tenantScope: string, mrn: string): Promise<string | undefined> {
    const c = await this.#cipher();
    const row = await this.#db.selectFrom('patient').select('id').where('tenant_id', '=', tenantScope).where('mrn_hmac', '=', c.mrnIndex(tenantScope, mrn)).executeTakeFirst();
    return row?.id;
  }

  async exists(tenantScope: string | null, id: string): Promise<boolean> {
    let q = this.#db.selectFrom('patient').select('id').where('id', '=', id);
    if (tenantScope !== null) q = q.where('tenant_id', '=', tenantScope);
    return (await q.executeTakeFirst()) !== undefined;
  }

  /** Binds a device to a patient from `fromMs` (default now) until ended; overlaps are refused. */
  async bind(tenantScope: string, patientId: string, deviceId: string, actor: string, fromMs?: number): Promise<Binding> {
    if (!(await this.exists(tenantScope, patientId))) throw new PatientError('PATIENT_NOT_FOUND', `no patient ${patientId}`);
    const from = fromMs ?? this.#clock.nowMs();
    const id = newId('pbd');
    await this.#db.transaction().execute(async (trx) => {
      const overlapping = await trx.selectFrom('patient_binding').select('id').where('device_id', '=', deviceId)
        .where((eb) => eb.or([eb('to_ms', 'is', null), eb('to_ms', '>', from)])).executeTakeFirst();
      if (overlapping) throw new PatientError('BINDING_CONFLICT', 'the device is bound to a patient at that time', { details: { bindingId: overlapping.id } });
      await trx.insertInto('patient_binding').values({ id, tenant_id: tenantScope, patient_id: patientId, device_id: deviceId, from_ms: from, to_ms: null, created_by: actor, created_at: this.#clock.nowMs() }).execute();
    });
    await this.#audit.append({ actor, action: 'patient.device-bound', target: `patient:${patientId}`, tenantId: tenantScope, details: { deviceId, bindingId: id, fromMs: from } });
    return { id, patientId, deviceId, fromMs: from, toMs: null };
  }

  async endBinding(tenantScope: string, bindingId: string, actor: string, atMs?: number): Promise<Binding> {
    const row = await this.#db.selectFrom('patient_binding').selectAll().where('id', '=', bindingId).where('tenant_id', '=', tenantScope).executeTakeFirst();
    if (!row) throw new PatientError('PATIENT_NOT_FOUND', `no binding ${bindingId}`);
    const to = atMs ?? this.#clock.nowMs();
    if (row.to_ms !== null || to <= row.from_ms) throw new PatientError('BINDING_CONFLICT', 'binding already ended or end before start');
    await this.#db.updateTable('patient_binding').set({ to_ms: to }).where('id', '=', bindingId).execute();
    await this.#audit.append({ actor, action: 'patient.device-unbound', target: `patient:${row.patient_id}`, tenantId: tenantScope, details: { deviceId: row.device_id, bindingId } });
    return { id: row.id, patientId: row.patient_id, deviceId: row.device_id, fromMs: row.from_ms, toMs: to };
  }

  /** The patient a device was bound to at device time `atMs` (observation attribution). */
  async patientAt(deviceId: string, atMs: number): Promise<string | null> {
    const row = await this.#db.selectFrom('patient_binding').select('patient_id').where('device_id', '=', deviceId).where('from_ms', '<=', atMs)
      .where((eb) => eb.or([eb('to_ms', 'is', null), eb('to_ms', '>', atMs)])).orderBy('from_ms', 'desc').limit(1).executeTakeFirst();
    return row?.patient_id ?? null;
  }

  /** A patient's bindings overlapping [fromMs, toMs]: where to look for their observations. */
  async bindingsOf(tenantScope: string | null, patientId: string, fromMs = 0, toMs = Number.MAX_SAFE_INTEGER): Promise<Binding[]> {
    if (!(await this.exists(tenantScope, patientId))) throw new PatientError('PATIENT_NOT_FOUND', `no patient ${patientId}`);
    let q = this.#db.selectFrom('patient_binding').selectAll().where('patient_id', '=', patientId).where('from_ms', '<=', toMs)
      .where((eb) => eb.or([eb('to_ms', 'is', null), eb('to_ms', '>', fromMs)])).orderBy('from_ms');
    if (tenantScope !== null) q = q.where('tenant_id', '=', tenantScope);
    return (await q.execute()).map((r) => ({ id: r.id, patientId: r.patient_id, deviceId: r.device_id, fromMs: r.from_ms, toMs: r.to_ms }));
  }
}
