import { type Clock, systemClock } from '@medtrust/core';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { Database } from '../../db/index.ts';
import type { EventBus } from '../../events/index.ts';
import type { CertificateAuthorities } from '../pki-contracts.ts';
import { RevocationReader } from '../revocation/index.ts';
import { IssuerDirectory, type KnownIssuer } from './issuer-directory.ts';
import { type OcspCertId, OcspRequestError, parseOcspRequest } from './ocsp-request.ts';
import { buildOcspResponse, type CertStatus, type OcspErrorStatus, ocspErrorResponse } from './ocsp-response.ts';

export type OcspOutcome = 'good' | 'revoked' | 'unknown' | OcspErrorStatus;

export interface OcspAnswer {
  readonly der: Buffer;
  readonly outcome: OcspOutcome;
  /** Seconds an HTTP cache may keep it (RFC 5019 §6.2); undefined for nonce and error responses. */
  readonly maxAgeSeconds: number | undefined;
}

interface CachedResponse {
  readonly certIdDer: Buffer;
  readonly der: Buffer;
  readonly outcome: OcspOutcome;
  readonly expiresAtMs: number;
}

/** A request's exact bytes resolved to the cache entry answering it (the fast-path index). */
interface RequestHit {
  readonly key: string;
  readonly entry: CachedResponse;
}

/** Extra validity past the cache lifetime, so a response served from cache is never about to lapse. */
const NEXT_UPDATE_MARGIN_MS = 300_000;

/**
 * RFC 6960 responder. Signed responses without a nonce are cached per (issuer, serial) for
 * `cacheSeconds` and dropped when a revocation or issuance is heard on the event bus; a request
 * with a nonce is always signed afresh, since the nonce is inside the signed data (RFC 8954).
 */
export class OcspResponder {
  readonly #reader: RevocationReader;
  readonly #issuers: IssuerDirectory;
  readonly #events: EventBus;
  readonly #clock: Clock;
  readonly #logger: Logger | undefined;
  readonly #cacheMs: number;
  readonly #maxCacheEntries: number;
  readonly #cache = new Map<string, CachedResponse[]>();
  readonly #inflight = new Map<string, Promise<OcspAnswer>>();
  /**
   * Request DER (as a latin1 string) to its cache entry: a repeated nonce-less request is answered
   * without parsing it. Never invalidated itself: a hit counts only while its entry is still the
   * one in `#cache`, so dropping the entry there (revocation, issuance, expiry) drops the hit too.
   */
  readonly #byRequest = new Map<string, RequestHit>();
  readonly #counter: Counter<'outcome'> | undefined;
  /** Counts not yet in the counter: added at scrape time, so a cached answer costs no label hashing. */
  readonly #pending = new Map<OcspOutcome, number>();
  /** Bumped on every invalidation: a signing that read the status before it must not be cached. */
  #epoch = 0;

  constructor(opts: { db: Kysely<Database>; cas: CertificateAuthorities; events: EventBus; cacheSeconds: number; clock?: Clock; logger?: Logger; metrics?: Registry; maxCacheEntries?: number; signerRecheckMs?: number }) {
    this.#reader = new RevocationReader({ db: opts.db });
    this.#issuers = new IssuerDirectory({ cas: opts.cas, ...(opts.logger ? { logger: opts.logger } : {}), ...(opts.signerRecheckMs !== undefined ? { signerRecheckMs: opts.signerRecheckMs } : {}) });
    this.#events = opts.events;
    this.#clock = opts.clock ?? systemClock;
    this.#logger = opts.logger;
    this.#cacheMs = opts.cacheSeconds * 1000;
    this.#maxCacheEntries = opts.maxCacheEntries ?? 100_000;
    const pending = this.#pending;
    this.#counter = opts.metrics ? new Counter({
      name: 'medtrust_ocsp_responses_total', help: 'OCSP responses by certificate status or OCSP error status', labelNames: ['outcome'], registers: [opts.metrics],
      collect() {
        for (const [outcome, n] of pending) this.inc({ outcome }, n);
        pending.clear();
      },
    }) : undefined;
  }

  /** Drops cached responses when a certificate is revoked or issued; returns the unsubscribe function. */
  listen(): () => void {
    const drop = (e: { caName: string; serial: string }): void => {
      this.#epoch++;
      this.#cache.delete(`${e.caName}:${e.serial}`);
    };
    const a = this.#events.subscribe('certificate.revoked', drop);
    const b = this.#events.subscribe('certificate.issued', drop);
    return () => {
      a();
      b();
    };
  }

  /** Answers a DER OCSPRequest; never throws (errors become OCSP error statuses). */
  async respond(requestDer: Buffer): Promise<OcspAnswer> {
    const hit = this.cachedAnswer(requestDer);
    if (hit) return hit;
    const answer = await this.#respond(requestDer).catch((e: unknown) => {
      this.#logger?.error({ err: e }, 'OCSP responder failed');
      return errorAnswer('internalError');
    });
    this.#count(answer.outcome);
    return answer;
  }

  /**
   * The cached answer to exactly these request bytes, synchronously, or undefined (then call
   * `respond`). The HTTP fast path answers repeated nonce-less requests from here.
   */
  cachedAnswer(requestDer: Buffer): OcspAnswer | undefined {
    if (this.#byRequest.size === 0) return undefined;
    const k = requestDer.toString('latin1');
    const hit = this.#byRequest.get(k);
    if (!hit) return undefined;
    const nowMs = this.#clock.nowMs();
    if (hit.entry.expiresAtMs <= nowMs || !this.#cache.get(hit.key)?.includes(hit.entry)) {
      this.#byRequest.delete(k);
      return undefined;
    }
    this.#count(hit.entry.outcome);
    return { der: hit.entry.der, outcome: hit.entry.outcome, maxAgeSeconds: Math.floor((hit.entry.expiresAtMs - nowMs) / 1000) };
  }

  #count(outcome: OcspOutcome): void {
    if (this.#counter) this.#pending.set(outcome, (this.#pending.get(outcome) ?? 0) + 1);
  }

  /** Remembers which entry answers these request bytes; bounded like the cache itself. */
  #index(requestDer: Buffer, key: string, entry: CachedResponse): void {
    const k = requestDer.toString('latin1');
    if (!this.#byRequest.has(k) && this.#byRequest.size >= this.#maxCacheEntries) {
      const oldest = this.#byRequest.keys().next().value;
      if (oldest !== undefined) this.#byRequest.delete(oldest);
    }
    this.#byRequest.set(k, { key, entry });
  }

  async #respond(requestDer: Buffer): Promise<OcspAnswer> {
    let req;
    try {
      req = parseOcspRequest(requestDer);
    } catch (e) {
      if (e instanceof OcspRequestError) return errorAnswer('malformedRequest');
      throw e;
    }
    const issuers = await Promise.all(req.certIds.map((id) => this.#issuers.find(id)));
    const first = issuers[0];
    // RFC 6960 §2.3: we are not authoritative for an issuer we do not run. One signer can only
    // vouch for its own CA, so a request mixing issuers is refused the same way.
    if (!first || issuers.some((i) => i?.name !== first.name)) return errorAnswer('unauthorized');
    const only = req.certIds[0]!;
    if (req.certIds.length === 1 && !req.nonceExtnValue) return this.#cached(first, only, requestDer);
    const nowMs = this.#now();
    const statuses = await Promise.all(req.certIds.map((id) => this.#statusOf(first, id)));
    const der = buildOcspResponse({ signer: first.signer, producedAtMs: nowMs, nonceExtnValue: req.nonceExtnValue, responses: req.certIds.map((id, i) => ({ certIdDer: id.der, status: statuses[i]!, thisUpdateMs: nowMs, nextUpdateMs: nowMs + this.#cacheMs + NEXT_UPDATE_MARGIN_MS })) });
    return { der, outcome: req.certIds.length === 1 ? statuses[0]!.kind : worst(statuses), maxAgeSeconds: undefined };
  }

  async #cached(issuer: KnownIssuer, id: OcspCertId, requestDer: Buffer): Promise<OcspAnswer> {
    const key = `${issuer.name}:${id.serial}`;
    const nowMs = this.#clock.nowMs();
    const hit = this.#cache.get(key)?.find((c) => c.certIdDer.equals(id.der));
    if (hit && hit.expiresAtMs > nowMs) {
      this.#index(requestDer, key, hit);
      return { der: hit.der, outcome: hit.outcome, maxAgeSeconds: Math.floor((hit.expiresAtMs - nowMs) / 1000) };
    }
    const flightKey = `${key}:${id.der.toString('hex')}`;
    let flight = this.#inflight.get(flightKey);
    if (!flight) {
      flight = this.#sign(issuer, id, key, Buffer.from(requestDer)).finally(() => this.#inflight.delete(flightKey));
      this.#inflight.set(flightKey, flight);
    }
    return flight;
  }

  async #sign(issuer: KnownIssuer, id: OcspCertId, key: string, requestDer: Buffer): Promise<OcspAnswer> {
    const epoch = this.#epoch;
    const status = await this.#statusOf(issuer, id);
    const nowMs = this.#now();
    const der = buildOcspResponse({ signer: issuer.signer, producedAtMs: nowMs, responses: [{ certIdDer: id.der, status, thisUpdateMs: nowMs, nextUpdateMs: nowMs + this.#cacheMs + NEXT_UPDATE_MARGIN_MS }] });
    if (epoch !== this.#epoch) return { der, outcome: status.kind, maxAgeSeconds: undefined };
    const entry: CachedResponse = { certIdDer: Buffer.from(id.der), der, outcome: status.kind, expiresAtMs: nowMs + this.#cacheMs };
    if (!this.#cache.has(key) && this.#cache.size >= this.#maxCacheEntries) {
      // Oldest insertion first: a flood of distinct serials cannot grow memory without bound.
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
    const list = (this.#cache.get(key) ?? []).filter((c) => !c.certIdDer.equals(id.der) && c.expiresAtMs > nowMs);
    this.#cache.set(key, [...list, entry]);
    this.#index(requestDer, key, entry);
    return { der, outcome: status.kind, maxAgeSeconds: Math.floor(this.#cacheMs / 1000) };
  }

  async #statusOf(issuer: KnownIssuer, id: OcspCertId): Promise<CertStatus> {
    const state = await this.#reader.stateOf(id.serial);
    // RFC 6960 §2.2: "unknown" when we did not issue this serial under this issuer.
    if (!state || state.caName !== issuer.name) return { kind: 'unknown' };
    if (!state.revoked) return { kind: 'good' };
    return { kind: 'revoked', revokedAtMs: state.revoked.revokedAtMs, reason: state.revoked.reason };
  }

  /** Whole seconds: GeneralizedTime carries no fraction, and thisUpdate must not lie in the future. */
  #now(): number {
    return Math.floor(this.#clock.nowMs() / 1000) * 1000;
  }
}

function errorAnswer(status: OcspErrorStatus): OcspAnswer {
  return { der: ocspErrorResponse(status), outcome: status, maxAgeSeconds: undefined };
}

function worst(s: readonly CertStatus[]): OcspOutcome {
  return s.some((x) => x.kind === 'revoked') ? 'revoked' : s.some((x) => x.kind === 'unknown') ? 'unknown' : 'good';
}
