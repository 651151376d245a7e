import { EventEmitter } from 'node:events';
import type { DeviceAgent } from '../mqtt/device-agent.ts';
import type { UpdateClient, UpdateResult } from './update-client.ts';
import type { UpdateStatus } from './update-status.ts';

/** The platform's word on `devices/{id}/updates/desired` (docs/updates.md). */
export type DesiredStateMessage =
  | { readonly v: 1; readonly kind: 'none' }
  | { readonly v: 1; readonly kind: 'wait'; readonly campaignId: string; readonly reason: string }
  | { readonly v: 1; readonly kind: 'install'; readonly campaignId: string; readonly releaseId: string; readonly version: string; readonly target: string; readonly emergency: boolean };

export interface UpdateChannelOptions {
  /** The device's one MQTT connection. */
  readonly agent: DeviceAgent;
  readonly client: UpdateClient;
  /** After a deferral (therapy running) or a wait, ask again this much later. */
  readonly recheckMs?: number;
}

const DESIRED_SUFFIX = 'updates/desired';
const STATUS_SUFFIX = 'update-status';

/**
 * The device's half of campaigns over MQTT, on the agent's connection. Every time the broker
 * grants its desired-state subscription (each connect) it asks for the current state, which is
 * how it catches up after being offline; it installs what it is told through the TUF client,
 * which verifies everything again, and reports each step tagged with the campaign through the
 * agent's disk queue, so reports made while offline arrive after the reconnect, in order.
 */
export class UpdateChannel extends EventEmitter<{ desired: [DesiredStateMessage]; result: [UpdateResult | Error] }> {
  readonly #o: UpdateChannelOptions;
  #stopped = true;
  #recheck: NodeJS.Timeout | undefined;
  #busy = false;
  #next: DesiredStateMessage | undefined;

  constructor(opts: UpdateChannelOptions) {
    super();
    this.#o = opts;
  }

  /**
   * Listens for desired states; call before or after `agent.start()`. Resolves once the broker
   * granted the subscription (which needs the agent connected), rejects with MQTT_SUBSCRIPTION_REFUSED.
   */
  start(): Promise<void> {
    this.#stopped = false;
    return this.#o.agent.subscribe(DESIRED_SUFFIX, (payload) => {
      const d = parseDesired(payload);
      if (!d) return;
      this.emit('desired', d);
      this.#onDesired(d);
    }, {
      // Subscribed first: the answer to the check must find the subscription in place.
      onGranted: () => this.check(),
    });
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#recheck);
    this.#o.agent.unsubscribe(DESIRED_SUFFIX);
  }

  /**
   * Asks the platform for this device's desired state (also done on every connect). Not queued:
   * a check made while offline is pointless, the connect asks anyway.
   */
  check(): void {
    this.#o.agent.publishIfConnected(STATUS_SUFFIX, { v: 1, kind: 'check' });
  }

  #onDesired(d: DesiredStateMessage): void {
    clearTimeout(this.#recheck);
    if (d.kind === 'none') return;
    if (d.kind === 'wait') {
      // A maintenance window or a phase opens later; the platform also pushes phase changes.
      this.#scheduleRecheck();
      return;
    }
    if (this.#busy) {
      this.#next = d;
      return;
    }
    void this.#install(d);
  }

  async #install(d: DesiredStateMessage & { kind: 'install' }): Promise<void> {
    this.#busy = true;
    try {
      const r = await this.#o.client.update({ version: d.version, onStatus: (s) => this.#status(d.campaignId, s) });
      // Already running it (installed earlier, or the report was lost): say so, the campaign counts it.
      if (r.kind === 'up-to-date') this.#status(d.campaignId, { kind: 'installed', version: r.version, slot: this.#o.client.slots.active() });
      // The clinical safety gate: ask again later; the platform never overrides it.
      if (r.kind === 'deferred') this.#scheduleRecheck();
      this.emit('result', r);
    } catch (e) {
      // The client already reported `failed` with its code.
      this.emit('result', e instanceof Error ? e : new Error(String(e)));
    } finally {
      this.#busy = false;
      const next = this.#next;
      this.#next = undefined;
      if (next) this.#onDesired(next);
    }
  }

  #scheduleRecheck(): void {
    clearTimeout(this.#recheck);
    if (this.#stopped) return;
    // Keeps asking until a desired state arrives (which clears this): the platform drops checks
    // that come faster than it allows, and a check sent while disconnected is lost.
    this.#recheck = setTimeout(() => {
      this.check();
      this.#scheduleRecheck();
    }, this.#o.recheckMs ?? 60_000);
  }

  #status(campaignId: string, s: UpdateStatus): void {
    const body: Record<string, unknown> = { v: 1, campaignId, kind: s.kind, version: s.version };
    if (s.kind === 'pending' && s.reason) body.reason = s.reason;
    if (s.kind === 'failed' || s.kind === 'rolled-back') body.code = s.code;
    // On disk until the PUBACK, which the platform sends after updating the campaign row.
    this.#o.agent.publish(STATUS_SUFFIX, body);
  }
}

function parseDesired(payload: Buffer): DesiredStateMessage | undefined {
  try {
    const d = JSON.parse(payload.toString('utf8')) as DesiredStateMessage;
    if (d.v !== 1) return undefined;
    if (d.kind === 'none') return d;
    if (d.kind === 'wait' && typeof d.campaignId === 'string') return d;
    if (d.kind === 'install' && typeof d.campaignId === 'string' && typeof d.version === 'string') return d;
  } catch {
    // not a desired state
  }
  return undefined;
}
