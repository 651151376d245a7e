import { type Clock, systemClock } from '@medtrust/core';
import type { Kysely } from 'kysely';
import type { AuditLog } from '../../audit/index.ts';
import type { Database } from '../../db/index.ts';
import type { EventBus } from '../../events/index.ts';
import { PkiError } from '../errors.ts';
import { applyScope, type CertificateScope } from './certificate-scope.ts';
import { type CrlReasonName, parseCrlReason } from './crl-reason.ts';
import { normaliseSerial } from './serial.ts';

export interface Revocation {
  readonly serial: string;
  readonly caName: string;
  readonly deviceId: string | null;
  readonly tenantId: string | null;
  readonly reason: CrlReasonName;
  readonly reasonCode: number;
  readonly revokedAt: number;
}

/** Revokes certificates: one atomic row update, an audit entry, and `certificate.revoked` on the bus. */
export class RevocationService {
  readonly #db: Kysely<Database>;
  readonly #audit: AuditLog;
  readonly #events: EventBus;
  readonly #clock: Clock;

  constructor(opts: { db: Kysely<Database>; audit: AuditLog; events: EventBus; clock?: Clock }) {
    this.#db = opts.db;
    this.#audit = opts.audit;
    this.#events = opts.events;
    this.#clock = opts.clock ?? systemClock;
  }

  /**
   * Revokes `serial` for an RFC 5280 reason. CERT_NOT_FOUND (also outside `scope`),
   * CERT_ALREADY_REVOKED, REVOCATION_REASON_INVALID.
   */
  async revoke(serialInput: string, reason: string, actor: string, scope: CertificateScope = { kind: 'all' }): Promise<Revocation> {
    const reasonCode = parseCrlReason(reason);
    const serial = normaliseSerial(serialInput);
    const revokedAt = this.#clock.nowMs();
    const outcome = await this.#db.transaction().execute(async (trx) => {
      const row = await applyScope(trx.selectFrom('certificate').select(['serial', 'ca_name', 'device_id', 'tenant_id', 'status']).where('certificate.serial', '=', serial), scope).executeTakeFirst();
      if (!row) return { kind: 'missing' as const };
      // The status condition makes a concurrent second revocation (another node, the CLI) update nothing.
      const r = await trx.updateTable('certificate').set({ status: 'revoked', revoked_at: revokedAt, revocation_reason: reasonCode })
        .where('serial', '=', serial).where('status', '!=', 'revoked').executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) return { kind: 'already' as const, row };
      return { kind: 'revoked' as const, row };
    });
    if (outcome.kind === 'missing') throw new PkiError('CERT_NOT_FOUND', `no certificate ${serial}`, { details: { serial } });
    if (outcome.kind === 'already') {
      await this.#audit.append({ actor, action: 'pki.certificate.revoked', target: `certificate:${serial}`, tenantId: outcome.row.tenant_id, outcome: 'failure', details: { error: 'CERT_ALREADY_REVOKED', reason } });
      throw new PkiError('CERT_ALREADY_REVOKED', `certificate ${serial} is already revoked`, { details: { serial } });
    }
    const { row } = outcome;
    await this.#audit.append({ actor, action: 'pki.certificate.revoked', target: `certificate:${serial}`, tenantId: row.tenant_id, details: { caName: row.ca_name, deviceId: row.device_id, reason, previousStatus: row.status } });
    await this.#events.publish({ kind: 'certificate.revoked', serial, caName: row.ca_name, deviceId: row.device_id, reason: reasonCode });
    return { serial, caName: row.ca_name, deviceId: row.device_id, tenantId: row.tenant_id, reason: reason as CrlReasonName, reasonCode, revokedAt };
  }
}
