import { isMedTrustError } from '@medtrust/core';
import type { AuditLog } from '../../audit/index.ts';
import { publishRefusal } from '../../gateway/index.ts';
import type { CampaignService, DesiredState } from '../campaigns/campaign-service.ts';
import { UpdateError } from '../errors.ts';
import { parseUpdateStatus, type UpdateStatusMessage } from './update-status-message.ts';

/** Platform to device (QoS 1): the device's desired state. Device to platform: `update-status`. */
export const DESIRED_SUFFIX = 'updates/desired';
export const STATUS_SUFFIX = 'update-status';

/** Sends a platform message to `devices/{id}/{suffix}` through whichever broker the node runs. */
export type DevicePublisher = (deviceId: string, suffix: string, payload: string) => Promise<void>;

/** The device as the gateway authenticated it (from its LDevID, never from the payload). */
export interface UpdateChannelDevice {
  readonly deviceId: string;
  readonly tenantId: string;
}

/** At most this many deferred check answers pending; beyond, too-early checks are dropped. */
const MAX_DEFERRED_CHECKS = 10_000;

const FINAL = new Set(['installed', 'failed', 'rolled-back']);

/** The desired state as it goes to the device (MQTT `updates/desired`, HTTPS `GET /device/v1/updates/desired`). */
export type DesiredMessage = { readonly v: 1 } & DesiredState;

/** What a request/response transport (HTTPS) answers to one update-status message. */
export type UpdateStatusReceipt = { readonly kind: 'desired'; readonly message: DesiredMessage } | { readonly kind: 'recorded' };

/** Records the firmware a device now runs in the device registry (`DeviceRegistry.recordFirmware`). */
export type FirmwareRecorder = (deviceId: string, version: string, actor: string) => Promise<unknown>;

/**
 * Desired state and status over MQTT. The platform pushes a device's desired state when a
 * campaign changes it (created, phase opened or approved, paused, resumed); a device asks for it
 * with `{"v":1,"kind":"check"}` whenever it (re)connects, which is how an offline device catches
 * up without retained messages (the embedded broker keeps none across restarts). Status reports
 * drive the campaign's counts and thresholds.
 */
export class UpdateStatusChannel {
  readonly #campaigns: CampaignService;
  readonly #audit: AuditLog;
  readonly #onError: (e: unknown) => void;
  readonly #recordFirmware: FirmwareRecorder | undefined;
  #publish: DevicePublisher | undefined;
  /** When each device last had a check answered: a device cannot make the platform query in a loop. */
  readonly #lastCheck = new Map<string, number>();
  readonly #minCheckIntervalMs: number;
  /** Devices whose too-early check will be answered at the end of their interval. */
  readonly #deferred = new Map<string, NodeJS.Timeout>();
  /** Campaign notifications run one after another so a large campaign cannot flood the broker. */
  #queue: Promise<void> = Promise.resolve();

  constructor(opts: { campaigns: CampaignService; audit: AuditLog; onError?: (e: unknown) => void; recordFirmware?: FirmwareRecorder; minCheckIntervalMs?: number }) {
    this.#minCheckIntervalMs = opts.minCheckIntervalMs ?? 1000;
    this.#campaigns = opts.campaigns;
    this.#recordFirmware = opts.recordFirmware;
    this.#audit = opts.audit;
    this.#onError = opts.onError ?? (() => undefined);
    this.#campaigns.onDesiredChange((id, through) => this.#notifyCampaign(id, through));
  }

  /** The platform binds the broker once the gateway is up; before that nothing is pushed. */
  bindPublisher(publish: DevicePublisher): void {
    this.#publish = publish;
  }

  /** The desired state message for a device (what it would get over MQTT). */
  async desiredMessage(deviceId: string): Promise<DesiredMessage> {
    return { v: 1, ...(await this.#campaigns.desiredFor(deviceId)) };
  }

  async sendDesired(deviceId: string): Promise<void> {
    if (!this.#publish) return;
    await this.#publish(deviceId, DESIRED_SUFFIX, JSON.stringify(await this.desiredMessage(deviceId)));
  }

  /**
   * One update-status message over a request/response transport (the device HTTPS API): a check
   * answers the desired state, a report is recorded as over MQTT. Refusals throw
   * UPDATE_STATUS_INVALID (the transport answers it; nothing is published).
   */
  async receive(device: UpdateChannelDevice, payload: Buffer): Promise<UpdateStatusReceipt> {
    const m = parseUpdateStatus(payload);
    if (!m) throw new UpdateError('UPDATE_STATUS_INVALID', 'not an update status message (docs/updates.md)');
    if (m.kind === 'check') return { kind: 'desired', message: await this.desiredMessage(device.deviceId) };
    await this.record(device, m);
    return { kind: 'recorded' };
  }

  /**
   * Records a status report from either transport: the campaign's counts, the firmware on
   * `installed`, an audit entry for final states. A repeated report (a QoS 1 redelivery, a resend)
   * is accepted and changes nothing. A report on a campaign the device is not in changes nothing,
   * is audited `denied` and throws UPDATE_STATUS_INVALID; a storage failure throws.
   */
  async record(device: UpdateChannelDevice, m: Extract<UpdateStatusMessage, { kind: 'status' }>): Promise<void> {
    try {
      if (!(await this.#campaigns.report(m.campaignId, device.deviceId, m.status, m.detail))) return;
    } catch (e) {
      if (!isMedTrustError(e) || e.code !== 'CAMPAIGN_NOT_FOUND') throw e;
      await this.#audit.append({ actor: `device:${device.deviceId}`, action: 'update.status', target: `campaign:${m.campaignId}`, tenantId: device.tenantId, outcome: 'denied', details: { code: 'UPDATE_STATUS_INVALID', status: m.status } });
      throw new UpdateError('UPDATE_STATUS_INVALID', 'the device is not in this campaign', { details: { campaignId: m.campaignId }, cause: e });
    }
    if (m.status === 'installed' && this.#recordFirmware) {
      // The registry learns the version from the campaign's release, not from the device's words.
      await this.#recordFirmware(device.deviceId, await this.#campaigns.releaseVersionOf(m.campaignId), `device:${device.deviceId}`);
    }
    if (FINAL.has(m.status)) {
      await this.#audit.append({ actor: `device:${device.deviceId}`, action: 'update.status', target: `campaign:${m.campaignId}`, tenantId: device.tenantId, outcome: m.status === 'installed' ? 'success' : 'failure', details: { status: m.status, detail: m.detail } });
    }
  }

  /**
   * A device message on a topic other than telemetry; returns false when it is not ours.
   * Malformed or foreign-campaign reports are refused on `errors` and acknowledged (resending
   * cannot fix them); a storage failure throws, so the gateway does not acknowledge it.
   */
  async handle(device: UpdateChannelDevice, suffix: string, payload: Buffer): Promise<boolean> {
    if (suffix !== STATUS_SUFFIX) return false;
    const m = parseUpdateStatus(payload);
    if (!m) {
      await this.#refuse(device, null);
      return true;
    }
    if (m.kind === 'check') {
      const id = device.deviceId;
      const now = Date.now();
      const last = this.#lastCheck.get(id) ?? -Infinity;
      if (now - last < this.#minCheckIntervalMs) {
        // Too soon: one answer at the end of the interval however many checks came in it, so a
        // device that reconnected twice within a second still hears its state, and one asking in
        // a loop costs a query per interval.
        if (!this.#deferred.has(id) && this.#deferred.size < MAX_DEFERRED_CHECKS) {
          const timer = setTimeout(() => {
            this.#deferred.delete(id);
            this.#lastCheck.set(id, Date.now());
            this.sendDesired(id).catch(this.#onError);
          }, last + this.#minCheckIntervalMs - now);
          timer.unref();
          this.#deferred.set(id, timer);
        }
        return true;
      }
      if (this.#lastCheck.size >= 100_000) this.#lastCheck.clear();
      this.#lastCheck.set(id, now);
      await this.sendDesired(id);
      return true;
    }
    try {
      await this.record(device, m);
    } catch (e) {
      if (!isMedTrustError(e) || e.code !== 'UPDATE_STATUS_INVALID') throw e;
      // A device reporting on a campaign it is not in: refused (and audited by record), nothing changes.
      await this.#refuse(device, m.campaignId);
    }
    return true;
  }

  async #refuse(device: UpdateChannelDevice, campaignId: string | null): Promise<void> {
    const publish = this.#publish;
    if (!publish) return;
    await publishRefusal({ publishToDevice: (id, suffix, p) => publish(id, suffix, p.toString()) }, device.deviceId, { code: 'UPDATE_STATUS_INVALID', messageId: null, topic: `devices/${device.deviceId}/${STATUS_SUFFIX}`, details: campaignId ? { campaignId } : undefined })
      .catch(this.#onError);
  }

  #notifyCampaign(campaignId: string, throughPhase: number): void {
    this.#queue = this.#queue.then(async () => {
      if (!this.#publish) return;
      for (const id of await this.#campaigns.unfinishedDevices(campaignId, throughPhase)) await this.sendDesired(id).catch(this.#onError);
    }).catch(this.#onError);
  }

  /** Resolves when the pushes queued so far have been sent (tests, shutdown). */
  idle(): Promise<void> {
    return this.#queue;
  }
}
