import { createHmac, randomBytes } from 'node:crypto';
import { type Clock, newId, openAes256Gcm, sealAes256Gcm, systemClock } from '@medtrust/core';
import type { Kysely } from 'kysely';
import type { AuditLog } from '../../audit/index.ts';
import type { Database } from '../../db/index.ts';
import { ClinicalError } from '../errors.ts';
import type { AlertChange, AlertView } from './alert-service.ts';

/** `MedTrust-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>` (docs/alerts.md). */
export function signWebhook(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

export interface WebhookOptions {
  readonly db: Kysely<Database>;
  readonly audit: AuditLog;
  /** 32-byte key that encrypts endpoint secrets at rest (from the key store's secret store). */
  readonly secretKey: () => Promise<Buffer>;
  readonly clock?: Clock;
  /** Give up (dead-letter) after this long; the delivery stays listed and can be retried. */
  readonly maxAgeMs?: number;
  readonly timeoutMs?: number;
  readonly onDelivered?: (alert: { receivedAtMs: number }, deliveredAtMs: number) => void;
}

/**
 * Signed webhooks for alert changes, through an outbox table: every change is written as a
 * delivery row first, then sent, retried with exponential backoff, and dead-lettered (kept,
 * listed, retryable) rather than dropped.
 */
export class WebhookService {
  readonly #o: WebhookOptions;
  readonly #clock: Clock;
  #sending = false;
  /** Last created_at given out: deliveries of one node keep their enqueue order even within a millisecond. */
  #lastCreatedMs = 0;

  constructor(opts: WebhookOptions) {
    this.#o = opts;
    this.#clock = opts.clock ?? systemClock;
  }

  async createEndpoint(tenantId: string, url: string, actor: string): Promise<{ id: string; secret: string }> {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new ClinicalError('WEBHOOK_URL_INVALID', 'not a URL');
    }
    const local = ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname);
    if (!(u.protocol === 'https:' || (u.protocol === 'http:' && local))) throw new ClinicalError('WEBHOOK_URL_INVALID', 'webhooks must use https (http only to localhost)');
    const id = newId('whk');
    const secret = randomBytes(32).toString('base64url');
    const secretEnc = sealAes256Gcm(await this.#o.secretKey(), secret, id);
    await this.#o.db.insertInto('webhook_endpoint').values({ id, tenant_id: tenantId, url: u.toString(), secret_enc: secretEnc, enabled: 1, created_at: this.#clock.nowMs() }).execute();
    await this.#o.audit.append({ actor, action: 'webhook.created', target: `webhook:${id}`, tenantId, details: { url: u.origin } });
    return { id, secret };
  }

  async listEndpoints(tenantScope: string | null): Promise<Array<{ id: string; tenantId: string; url: string; enabled: boolean }>> {
    let q = this.#o.db.selectFrom('webhook_endpoint').select(['id', 'tenant_id', 'url', 'enabled']);
    if (tenantScope !== null) q = q.where('tenant_id', '=', tenantScope);
    return (await q.execute()).map((r) => ({ id: r.id, tenantId: r.tenant_id, url: r.url, enabled: r.enabled === 1 }));
  }

  /** Writes one delivery per enabled endpoint of the alert's tenant. */
  async enqueue(alert: AlertView, change: AlertChange): Promise<void> {
    const endpoints = await this.#o.db.selectFrom('webhook_endpoint').select('id').where('tenant_id', '=', alert.tenantId).where('enabled', '=', 1).execute();
    if (endpoints.length === 0) return;
    const now = Math.max(this.#clock.nowMs(), this.#lastCreatedMs + 1);
    this.#lastCreatedMs = now;
    const rows = endpoints.map((e) => {
      const id = newId('whd');
      const body = JSON.stringify({ id, type: `alert.${change}`, createdAt: new Date(now).toISOString(), alert });
      return { id, endpoint_id: e.id, alert_id: alert.id, body, attempts: 0, next_attempt_at: now, status: 'pending' as const, last_error: null, created_at: now, delivered_at: null };
    });
    await this.#o.db.insertInto('webhook_delivery').values(rows).execute();
  }

  /** Sends every due delivery once; called by a job and after each enqueue. */
  async deliverDue(limit = 100): Promise<number> {
    if (this.#sending) return 0;
    this.#sending = true;
    try {
      const now = this.#clock.nowMs();
      const due = await this.#o.db.selectFrom('webhook_delivery').innerJoin('webhook_endpoint', 'webhook_endpoint.id', 'webhook_delivery.endpoint_id')
        .select(['webhook_delivery.id', 'webhook_delivery.body', 'webhook_delivery.attempts', 'webhook_delivery.created_at', 'webhook_endpoint.url', 'webhook_endpoint.secret_enc', 'webhook_endpoint.id as endpoint_id', 'webhook_endpoint.tenant_id'])
        .where('webhook_delivery.status', '=', 'pending').where('webhook_delivery.next_attempt_at', '<=', now).orderBy('webhook_delivery.created_at').limit(limit).execute();
      let delivered = 0;
      // An endpoint that failed in this pass gets nothing more in it, so changes arrive in order.
      const failed = new Set<string>();
      for (const d of due) {
        if (failed.has(d.endpoint_id)) continue;
        const secret = await this.#secretOf(d.endpoint_id, d.secret_enc);
        const t = Math.floor(this.#clock.nowMs() / 1000);
        let error: string | null = null;
        try {
          const res = await fetch(d.url, {
            method: 'POST', body: d.body, redirect: 'error', signal: AbortSignal.timeout(this.#o.timeoutMs ?? 5_000),
            headers: { 'content-type': 'application/json', 'medtrust-signature': signWebhook(secret, d.body, t), 'medtrust-delivery': d.id },
          });
          await res.arrayBuffer().catch(() => undefined);
          if (!res.ok) error = `HTTP ${res.status}`;
        } catch (e) {
          error = e instanceof Error ? e.message : String(e);
        }
        const at = this.#clock.nowMs();
        if (error === null) {
          delivered++;
          await this.#o.db.updateTable('webhook_delivery').set({ status: 'delivered', delivered_at: at, attempts: d.attempts + 1, last_error: null }).where('id', '=', d.id).execute();
          const alert = (JSON.parse(d.body) as { alert: { receivedAtMs: number } }).alert;
          this.#o.onDelivered?.(alert, at);
          continue;
        }
        failed.add(d.endpoint_id);
        const attempts = d.attempts + 1;
        const dead = at - d.created_at >= (this.#o.maxAgeMs ?? 86_400_000);
        // Exponential backoff from 1 s to 5 min, with jitter so endpoints coming back are not stampeded.
        const delay = Math.min(300_000, 1000 * 2 ** Math.min(attempts - 1, 12)) * (0.8 + Math.random() * 0.4);
        await this.#o.db.updateTable('webhook_delivery').set({ attempts, last_error: error.slice(0, 500), status: dead ? 'dead' : 'pending', next_attempt_at: at + Math.round(delay) }).where('id', '=', d.id).execute();
        if (dead) await this.#o.audit.append({ actor: 'system', action: 'webhook.dead-lettered', target: `webhook-delivery:${d.id}`, tenantId: d.tenant_id, outcome: 'failure', details: { attempts, error: error.slice(0, 200) } });
      }
      return delivered;
    } finally {
      this.#sending = false;
    }
  }

  async deliveries(tenantScope: string | null, status: 'pending' | 'delivered' | 'dead', limit = 100): Promise<Array<{ id: string; alertId: string; attempts: number; lastError: string | null; status: string }>> {
    let q = this.#o.db.selectFrom('webhook_delivery').innerJoin('webhook_endpoint', 'webhook_endpoint.id', 'webhook_delivery.endpoint_id')
      .select(['webhook_delivery.id', 'webhook_delivery.alert_id', 'webhook_delivery.attempts', 'webhook_delivery.last_error', 'webhook_delivery.status'])
      .where('webhook_delivery.status', '=', status).orderBy('webhook_delivery.created_at', 'desc').limit(Math.min(limit, 500));
    if (tenantScope !== null) q = q.where('webhook_endpoint.tenant_id', '=', tenantScope);
    return (await q.execute()).map((r) => ({ id: r.id, alertId: r.alert_id, attempts: r.attempts, lastError: r.last_error, status: r.status }));
  }

  /** Puts a dead-lettered delivery back in the queue. */
  async retry(tenantScope: string | null, id: string, actor: string): Promise<void> {
    let q = this.#o.db.selectFrom('webhook_delivery').innerJoin('webhook_endpoint', 'webhook_endpoint.id', 'webhook_delivery.endpoint_id').select(['webhook_delivery.id', 'webhook_endpoint.tenant_id']).where('webhook_delivery.id', '=', id);
    if (tenantScope !== null) q = q.where('webhook_endpoint.tenant_id', '=', tenantScope);
    const row = await q.executeTakeFirst();
    if (!row) throw new ClinicalError('WEBHOOK_NOT_FOUND', `no delivery ${id}`);
    const now = this.#clock.nowMs();
    await this.#o.db.updateTable('webhook_delivery').set({ status: 'pending', next_attempt_at: now, created_at: now }).where('id', '=', id).execute();
    await this.#o.audit.append({ actor, action: 'webhook.retried', target: `webhook-delivery:${id}`, tenantId: row.tenant_id });
  }

  async #secretOf(endpointId: string, enc: Buffer): Promise<string> {
    return openAes256Gcm(await this.#o.secretKey(), enc, endpointId).toString('utf8');
  }
}
