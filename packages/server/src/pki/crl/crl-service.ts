import { type Clock, systemClock } from '@medtrust/core';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../../db/index.ts';
import type { EventBus } from '../../events/index.ts';
import type { Job } from '../../jobs/index.ts';
import { PkiError } from '../errors.ts';
import { CA_NAMES, type CaName, type CertificateAuthorities } from '../pki-contracts.ts';
import { RevocationReader } from '../revocation/index.ts';
import { buildCrl } from './crl-builder.ts';

export interface CurrentCrl {
  readonly caName: CaName;
  readonly der: Buffer;
  readonly crlNumber: number;
  readonly thisUpdateMs: number;
  readonly nextUpdateMs: number;
}

export function isCaName(s: string): s is CaName {
  return (CA_NAMES as readonly string[]).includes(s);
}

/**
 * One CRL per CA, kept in memory. Re-issued when a revocation is heard on the event bus (from
 * this node, another node or the CLI), when half its validity has passed (checked on every read,
 * so every node stays fresh without the once-per-cluster job), and by the refresh job.
 */
export class CrlService {
  readonly #db: Kysely<Database>;
  readonly #cas: CertificateAuthorities;
  readonly #events: EventBus;
  readonly #clock: Clock;
  readonly #logger: Logger | undefined;
  readonly #validityMs: number;
  readonly #reader: RevocationReader;
  readonly #current = new Map<CaName, CurrentCrl>();
  /** Serialises issuance per CA so that numbers and contents move forward together. */
  readonly #queue = new Map<CaName, Promise<unknown>>();

  constructor(opts: { db: Kysely<Database>; cas: CertificateAuthorities; events: EventBus; validityHours: number; clock?: Clock; logger?: Logger }) {
    this.#db = opts.db;
    this.#cas = opts.cas;
    this.#events = opts.events;
    this.#clock = opts.clock ?? systemClock;
    this.#logger = opts.logger;
    this.#validityMs = opts.validityHours * 3_600_000;
    this.#reader = new RevocationReader({ db: opts.db });
  }

  /** The current CRL of a CA by name; CA_UNKNOWN for a name that is not one of ours. */
  async get(name: string): Promise<CurrentCrl> {
    if (!isCaName(name)) throw new PkiError('CA_UNKNOWN', `no CA named ${name.slice(0, 40)}`, { details: { ca: name.slice(0, 40) } });
    // A regeneration already queued (a revocation just heard) is waited for, so a read right
    // after a revocation never returns the CRL from before it.
    await this.#queue.get(name)?.catch(() => undefined);
    const cur = this.#current.get(name);
    if (cur && !this.#due(cur)) return cur;
    return this.regenerate(name);
  }

  /** Issues a new CRL now (crl_number + 1). */
  regenerate(name: CaName): Promise<CurrentCrl> {
    const prev = this.#queue.get(name) ?? Promise.resolve();
    const run = prev.catch(() => undefined).then(() => this.#issue(name));
    this.#queue.set(name, run);
    return run;
  }

  /** Subscribes to revocations; returns the unsubscribe function. Only a listening node calls it. */
  listen(): () => void {
    return this.#events.subscribe('certificate.revoked', async (e) => {
      if (!isCaName(e.caName)) return;
      await this.regenerate(e.caName);
    });
  }

  /** The scheduled job: re-issues every CRL that is past half its validity. */
  job(): Job {
    return {
      name: 'pki.crl-refresh',
      intervalMs: Math.max(Math.min(this.#validityMs / 4, 3_600_000), 1000),
      run: async () => {
        for (const name of CA_NAMES) {
          const cur = this.#current.get(name);
          if (!cur || this.#due(cur)) await this.regenerate(name);
        }
      },
    };
  }

  #due(c: CurrentCrl): boolean {
    return this.#clock.nowMs() >= c.thisUpdateMs + (c.nextUpdateMs - c.thisUpdateMs) / 2;
  }

  async #issue(name: CaName): Promise<CurrentCrl> {
    const ca = await this.#cas.get(name);
    const thisUpdateMs = Math.floor(this.#clock.nowMs() / 1000) * 1000;
    const nextUpdateMs = thisUpdateMs + this.#validityMs;
    const entries = await this.#reader.revokedBy(name, thisUpdateMs);
    // RFC 5280 §5.2.3: CRL numbers increase monotonically; the row update is atomic across nodes.
    const row = await this.#db.updateTable('ca').set((eb) => ({ crl_number: eb('crl_number', '+', 1) })).where('name', '=', name).returning('crl_number').executeTakeFirst();
    if (!row) throw new PkiError('CA_NOT_INITIALISED', `CA ${name} has no row`);
    const crlNumber = Number(row.crl_number);
    const der = buildCrl({ ca, crlNumber, thisUpdateMs, nextUpdateMs, entries });
    const crl: CurrentCrl = { caName: name, der, crlNumber, thisUpdateMs, nextUpdateMs };
    this.#current.set(name, crl);
    this.#logger?.info({ ca: name, crlNumber, entries: entries.length }, 'CRL issued');
    await this.#events.publish({ kind: 'crl.updated', caName: name, crlNumber });
    return crl;
  }
}
