import 'reflect-metadata';
import { EventEmitter } from 'node:events';
import * as x509 from '@peculiar/x509';
import { type EstClient, msUntilExpiry, newKeyAndCsr } from './est/est-client.ts';
import { backoffDelayMs } from './mqtt/backoff.ts';
import type { DeviceAgent, DeviceCredentials } from './mqtt/device-agent.ts';

/**
 * Renews the LDevID over EST simplereenroll when less than `renewBeforeMs` of its life is left,
 * with a fresh key, and switches the agent to it. Returns the credentials now in use.
 */
export async function renewIfDue(o: { est: EstClient; agent: DeviceAgent; credentials: DeviceCredentials; renewBeforeMs: number; nowMs?: number }): Promise<DeviceCredentials> {
  if (msUntilExpiry(o.credentials.certPem, o.nowMs) > o.renewBeforeMs) return o.credentials;
  const { keyPem, csrDer } = await newKeyAndCsr(o.credentials.deviceId);
  const certPem = await o.est.simpleReenroll(csrDer, { certPem: o.credentials.certPem, keyPem: o.credentials.keyPem });
  const next = { ...o.credentials, certPem, keyPem };
  await o.agent.rotate(next);
  return next;
}

const DAY_MS = 86_400_000;
/** Default lead time: 30 days, or a third of the certificate's life when that is shorter. */
export const DEFAULT_RENEW_BEFORE_DAYS = 30;
/** Longest single setTimeout (2^31 - 1 ms, about 24.8 days); longer waits are chained. */
const MAX_TIMER_MS = 2_147_483_647;

/** When to renew a certificate valid from `notBeforeMs` to `notAfterMs`. */
export function renewalDueAtMs(o: { notBeforeMs: number; notAfterMs: number; renewBeforeMs?: number; jitterRatio?: number; random?: () => number }): number {
  const lifeMs = o.notAfterMs - o.notBeforeMs;
  const leadMs = o.renewBeforeMs ?? Math.min(DEFAULT_RENEW_BEFORE_DAYS * DAY_MS, Math.floor(lifeMs / 3));
  // Spread renewals of a fleet enrolled together: up to `jitterRatio` of the lead time earlier.
  const jitterMs = Math.floor(leadMs * (o.jitterRatio ?? 0.1) * (o.random ?? Math.random)());
  return o.notAfterMs - leadMs - jitterMs;
}

export interface LdevidRenewalOptions {
  readonly est: EstClient;
  readonly agent: DeviceAgent;
  readonly credentials: DeviceCredentials;
  /** Renew this long before notAfter; default 30 days or a third of the validity, the shorter. */
  readonly renewBeforeMs?: number;
  /** Fraction of the lead time by which a renewal may come earlier, spread at random; default 0.1. */
  readonly jitterRatio?: number;
  /** Backoff between failed attempts (EST unreachable, refused); never later than expiry. */
  readonly retry?: { readonly baseMs: number; readonly maxMs: number };
  /**
   * Persist the renewed credentials here (atomically) before the agent switches to them: the
   * platform supersedes the old LDevID on re-enrolment, so a device that restarts with the old
   * one is refused.
   */
  readonly onRenewed?: (credentials: DeviceCredentials) => Promise<void> | void;
  readonly nowMs?: () => number;
}

/**
 * Keeps the device's LDevID fresh: schedules EST simplereenroll ahead of expiry, swaps the
 * certificate and key, reconnects the agent with them, and schedules the next renewal from the new
 * certificate. Emits `renewed` with the new credentials, `failed` with each failed attempt.
 */
export class LdevidRenewal extends EventEmitter<{ renewed: [DeviceCredentials]; failed: [Error] }> {
  readonly #o: LdevidRenewalOptions;
  #credentials: DeviceCredentials;
  #timer: NodeJS.Timeout | undefined;
  #dueAtMs = 0;
  #attempt = 0;
  #running: Promise<DeviceCredentials> | undefined;
  #stopped = true;

  constructor(opts: LdevidRenewalOptions) {
    super();
    this.#o = opts;
    this.#credentials = opts.credentials;
  }

  /** The credentials now in use (renewed ones after a renewal). */
  get credentials(): DeviceCredentials {
    return this.#credentials;
  }

  /** When the next attempt is scheduled (ms since the epoch). */
  get nextAttemptAtMs(): number {
    return this.#dueAtMs;
  }

  start(): void {
    this.#stopped = false;
    this.#schedule(this.#dueFor(this.#credentials));
  }

  /** Stops the timer and waits for an attempt in flight. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running?.catch(() => undefined);
  }

  /** Renews now (e.g. on an operator's request or a policy notice); one attempt at a time. */
  renewNow(): Promise<DeviceCredentials> {
    this.#running ??= this.#renew().finally(() => (this.#running = undefined));
    return this.#running;
  }

  #now(): number {
    return this.#o.nowMs?.() ?? Date.now();
  }

  #dueFor(c: DeviceCredentials): number {
    const cert = new x509.X509Certificate(c.certPem);
    return renewalDueAtMs({ notBeforeMs: cert.notBefore.getTime(), notAfterMs: cert.notAfter.getTime(), ...(this.#o.renewBeforeMs !== undefined ? { renewBeforeMs: this.#o.renewBeforeMs } : {}), ...(this.#o.jitterRatio !== undefined ? { jitterRatio: this.#o.jitterRatio } : {}) });
  }

  #schedule(atMs: number): void {
    clearTimeout(this.#timer);
    if (this.#stopped) return;
    this.#dueAtMs = atMs;
    const waitMs = Math.max(0, atMs - this.#now());
    // Long waits are chained: setTimeout fires at once for delays beyond 2^31 - 1 ms.
    this.#timer = setTimeout(() => (waitMs > MAX_TIMER_MS ? this.#schedule(atMs) : void this.renewNow().catch(() => undefined)), Math.min(waitMs, MAX_TIMER_MS));
    this.#timer.unref();
  }

  async #renew(): Promise<DeviceCredentials> {
    const current = this.#credentials;
    try {
      const { keyPem, csrDer } = await newKeyAndCsr(current.deviceId);
      // RFC 7030 §4.2.2: re-enrolment is authenticated by the current LDevID over TLS.
      const certPem = await this.#o.est.simpleReenroll(csrDer, { certPem: current.certPem, keyPem: current.keyPem });
      const next: DeviceCredentials = { ...current, certPem, keyPem };
      this.#credentials = next;
      this.#attempt = 0;
      try {
        await this.#o.onRenewed?.(next);
      } catch (e) {
        this.emit('failed', e instanceof Error ? e : new Error(String(e)));
      }
      await this.#o.agent.rotate(next);
      this.#schedule(this.#dueFor(next));
      this.emit('renewed', next);
      return next;
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      const retryMs = backoffDelayMs(this.#attempt++, this.#o.retry ?? { baseMs: 60_000, maxMs: 3_600_000 });
      // Keep trying until expiry; past it the platform refuses the LDevID and only re-onboarding helps.
      const untilExpiryMs = msUntilExpiry(current.certPem, this.#now()) - 1000;
      this.#schedule(this.#now() + (untilExpiryMs > 0 ? Math.min(retryMs, untilExpiryMs) : retryMs));
      this.emit('failed', err);
      throw err;
    }
  }
}
