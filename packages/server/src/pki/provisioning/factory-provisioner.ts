import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { type Clock, CoreError, newId, systemClock } from '@medtrust/core';
import type { Kysely } from 'kysely';
import type { AuditLog } from '../../audit/index.ts';
import type { Database } from '../../db/index.ts';
import { parseCsr } from '../csr/csr-parser.ts';
import type { IssuanceService } from '../issuance/issuance-service.ts';
import type { IssuedCertificate } from '../pki-contracts.ts';
import { PkiError } from '../errors.ts';

/** Key types generated for devices without a secure element. */
export type GeneratedKeyType = 'ec-p256' | 'ec-p384' | 'ed25519';

/** The registry operations provisioning needs (devices/DeviceRegistry). */
export interface ProvisioningRegistry {
  createMany(devices: ReadonlyArray<{ serial: string; model: string; hardwareRevision: string; tenantId: string; batchId?: string }>, actor: string): Promise<ReadonlyArray<{ id: string; serial: string; model: string; hardwareRevision: string; state: string; batchId: string | null }>>;
}

export interface ProvisionRequest {
  readonly model: string;
  readonly hardwareRevision: string;
  readonly serials: readonly string[];
  /** Owner of the new devices: the operator until a hospital claims them. */
  readonly tenantId: string;
  readonly actor: string;
  /** CSRs the devices made (DER), by serial; when absent, keys are generated here. */
  readonly csrs?: ReadonlyMap<string, Buffer>;
  readonly keyType?: GeneratedKeyType;
  readonly onProgress?: (done: number, total: number) => void;
}

export interface ProvisionedDevice {
  readonly id: string;
  readonly serial: string;
  readonly model: string;
  readonly hardwareRevision: string;
  readonly state: string;
  readonly batchId: string;
  readonly idevid: IssuedCertificate;
  /** PKCS#8 PEM of the generated key; only in generated-key mode, never stored by the platform. */
  readonly privateKeyPem?: string;
}

/** Most devices in one provisioning run (one transaction of certificates). */
export const MAX_BATCH_DEVICES = 100_000;

/**
 * Factory provisioning: registers devices (state `manufactured`), issues each an IDevID from the
 * Manufacturing CA in bulk, and records the batch (table provisioning_batch), audited.
 */
export class FactoryProvisioner {
  readonly #db: Kysely<Database>;
  readonly #devices: ProvisioningRegistry;
  readonly #issuer: IssuanceService;
  readonly #audit: AuditLog;
  readonly #clock: Clock;

  constructor(opts: { db: Kysely<Database>; devices: ProvisioningRegistry; issuer: IssuanceService; audit: AuditLog; clock?: Clock }) {
    this.#db = opts.db;
    this.#devices = opts.devices;
    this.#issuer = opts.issuer;
    this.#audit = opts.audit;
    this.#clock = opts.clock ?? systemClock;
  }

  async provision(req: ProvisionRequest): Promise<ProvisionedDevice[]> {
    const total = req.serials.length;
    if (total === 0 || total > MAX_BATCH_DEVICES) throw new CoreError('REQUEST_INVALID', `a batch holds 1-${MAX_BATCH_DEVICES} devices`);
    const mode = req.csrs ? 'csr' : 'generated-keys';
    // Check every CSR before anything is stored, naming the serial whose CSR is bad.
    if (req.csrs) {
      for (const serial of req.serials) {
        const csr = req.csrs.get(serial);
        if (!csr) throw new PkiError('CSR_INVALID', 'no CSR for this serial', { details: { serial } });
        try {
          parseCsr(csr);
        } catch (e) {
          if (e instanceof PkiError) throw new PkiError(e.code, `${e.message} (serial ${serial})`, { cause: e, details: { serial } });
          throw e;
        }
      }
    }
    const keys = new Map<string, { publicKey: KeyObject; pem: string }>();
    if (!req.csrs) for (const serial of req.serials) keys.set(serial, generateKey(req.keyType ?? 'ec-p256'));
    const batchId = newId('bat');
    const devices = await this.#devices.createMany(req.serials.map((serial) => ({ serial, model: req.model, hardwareRevision: req.hardwareRevision, tenantId: req.tenantId, batchId })), req.actor);
    let issued: IssuedCertificate[];
    try {
      issued = await this.#issuer.issueIdevidBatch({
        actor: req.actor,
        onProgress: req.onProgress,
        items: devices.map((d) => ({ device: d, csrDer: req.csrs?.get(d.serial), publicKey: keys.get(d.serial)?.publicKey })),
      });
    } catch (e) {
      // Certificates are all-or-nothing; take back the devices so that the run can be repeated.
      await this.#db.deleteFrom('device').where('batch_id', '=', batchId).execute();
      await this.#audit.append({ actor: req.actor, action: 'factory.batch.provisioned', target: `batch:${batchId}`, tenantId: req.tenantId, outcome: 'failure', details: { model: req.model, count: total, mode, error: e instanceof PkiError ? e.code : 'INTERNAL' } });
      throw e;
    }
    const now = this.#clock.nowMs();
    await this.#db.insertInto('provisioning_batch').values({ id: batchId, model: req.model, hardware_revision: req.hardwareRevision, count: total, serials: JSON.stringify(req.serials), mode, created_by: req.actor, created_at: now }).execute();
    await this.#audit.append({ actor: req.actor, action: 'factory.batch.provisioned', target: `batch:${batchId}`, tenantId: req.tenantId, details: { model: req.model, hardwareRevision: req.hardwareRevision, count: total, mode, firstSerial: req.serials[0], lastSerial: req.serials[total - 1] } });
    return devices.map((d, i) => ({
      id: d.id, serial: d.serial, model: d.model, hardwareRevision: d.hardwareRevision, state: d.state, batchId,
      idevid: issued[i] as IssuedCertificate,
      ...(keys.has(d.serial) ? { privateKeyPem: keys.get(d.serial)?.pem } : {}),
    }));
  }

  /** The next free sequence number for serials `<prefix><number>` of a model (1 when none). */
  async nextSequence(model: string, prefix: string): Promise<number> {
    const rows = await this.#db.selectFrom('device').select('serial').where('model', '=', model).where('serial', 'like', `${prefix.replace(/[%_\\]/g, '')}%`).execute();
    let max = 0;
    for (const r of rows) {
      const n = Number(r.serial.slice(prefix.length));
      if (Number.isSafeInteger(n) && n > max) max = n;
    }
    return max + 1;
  }
}

function generateKey(type: GeneratedKeyType): { publicKey: KeyObject; pem: string } {
  const pair = type === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: type === 'ec-p256' ? 'P-256' : 'P-384' });
  return { publicKey: pair.publicKey, pem: pair.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string };
}
