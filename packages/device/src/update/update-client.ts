import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type TargetFile, Updater } from 'tuf-js';
import { AbSlots, type InstalledFirmware } from './ab-slots.ts';
import { DeviceUpdateError } from './errors.ts';
import type { UpdateStatus } from './update-status.ts';
import { compareVersion } from './version-order.ts';

export interface UpdateClientOptions {
  readonly deviceId: string;
  readonly model: string;
  readonly hardwareRevision: string;
  /** e.g. `https://platform/tuf/metadata` and `https://platform/tuf/targets`. */
  readonly metadataBaseUrl: string;
  readonly targetBaseUrl: string;
  /** The root.json shipped with the device: the only key material it trusts a priori. */
  readonly trustedRoot: Buffer;
  /** Where TUF metadata, downloads and the A/B slots live. */
  readonly dataDir: string;
  /** Firmware present before the first update (slot a). */
  readonly factory: InstalledFirmware;
  /** Runs after switching to the new slot; false or a throw rolls back. */
  readonly healthCheck: (slotFile: string, version: string) => Promise<boolean>;
  readonly onStatus?: (status: UpdateStatus) => void;
  /** Clinical safety gate: false while therapy runs, which defers the install. */
  readonly isSafeToInstall?: () => boolean | Promise<boolean>;
}

/** The outcome of one `update()` call. */
export type UpdateResult =
  | { readonly kind: 'up-to-date'; readonly version: string }
  | { readonly kind: 'deferred'; readonly version: string }
  | { readonly kind: 'installed'; readonly version: string }
  | { readonly kind: 'rolled-back'; readonly version: string };

interface ModelManifest {
  readonly latest: { readonly version: string; readonly target: string } | null;
  readonly releases: readonly { readonly version: string; readonly target: string }[];
}

/**
 * The device's update agent: tuf-js (an independent TUF client) refreshes the metadata and
 * downloads the target for this device's model; the device then applies its own policy
 * (model, hardware revision, anti-rollback) and installs A/B with a health check.
 */
export class UpdateClient {
  readonly #o: UpdateClientOptions;
  readonly slots: AbSlots;
  readonly #metadataDir: string;

  constructor(opts: UpdateClientOptions) {
    this.#o = opts;
    this.#metadataDir = join(opts.dataDir, 'tuf');
    mkdirSync(this.#metadataDir, { recursive: true });
    if (!existsSync(join(this.#metadataDir, 'root.json'))) writeFileSync(join(this.#metadataDir, 'root.json'), opts.trustedRoot);
    this.slots = new AbSlots({ dir: join(opts.dataDir, 'slots'), factory: opts.factory });
  }

  #report(s: UpdateStatus): void {
    this.#o.onStatus?.(s);
    this.#callListener?.(s);
  }

  #callListener: ((s: UpdateStatus) => void) | undefined;

  /**
   * Installs `version` (default: the newest the model's manifest lists) when policy allows.
   * `onStatus` hears this call's statuses too (the MQTT channel tags them with the campaign).
   */
  async update(opts: { version?: string; onStatus?: (s: UpdateStatus) => void } = {}): Promise<UpdateResult> {
    this.#callListener = opts.onStatus;
    try {
      return await this.#update(opts.version ?? null);
    } finally {
      this.#callListener = undefined;
    }
  }

  async #update(requested: string | null): Promise<UpdateResult> {
    let version: string | null = requested;
    const running = this.slots.installed();
    try {
      // A fresh Updater per check: tuf-js records its reference time at construction (TUF 5.1).
      const tmp = mkdtempSync(join(this.#o.dataDir, 'dl-'));
      try {
        const updater = new Updater({ metadataDir: this.#metadataDir, metadataBaseUrl: this.#o.metadataBaseUrl, targetBaseUrl: this.#o.targetBaseUrl, targetDir: tmp, config: { fetchRetry: 1 } });
        await refused('UPDATE_METADATA_REFUSED', () => updater.refresh());
        const manifest = await this.#manifest(updater, tmp);
        const entry = version === null ? manifest.latest : manifest.releases.find((r) => r.version === version);
        if (!entry) throw new DeviceUpdateError('UPDATE_NOT_FOUND', `no release ${version ?? '(latest)'} for ${this.#o.model}`);
        version = entry.version;
        const info = await this.#target(updater, entry.target);
        const order = compareVersion(version, running.version);
        if (order === 0) return { kind: 'up-to-date', version };
        this.#checkPolicy(info, version, running, order);
        this.#report({ kind: 'pending', version });
        if (this.#o.isSafeToInstall && !(await this.#o.isSafeToInstall())) {
          this.#report({ kind: 'pending', version, reason: 'therapy-running' });
          return { kind: 'deferred', version };
        }
        this.#report({ kind: 'downloading', version });
        const file = await refused('UPDATE_DOWNLOAD_REFUSED', () => updater.downloadTarget(info, join(tmp, 'firmware')));
        return await this.#install(file, info, version, running);
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    } catch (e) {
      const code = e instanceof DeviceUpdateError ? e.code : 'UPDATE_METADATA_REFUSED';
      this.#report({ kind: 'failed', version, code });
      throw e instanceof DeviceUpdateError ? e : new DeviceUpdateError(code, 'update failed', { cause: e });
    }
  }

  async #manifest(updater: Updater, dir: string): Promise<ModelManifest> {
    const info = await refused('UPDATE_METADATA_REFUSED', () => updater.getTargetInfo(`${this.#o.model}/index.json`));
    if (!info) throw new DeviceUpdateError('UPDATE_NOT_FOUND', `no manifest for ${this.#o.model}`);
    const path = await refused('UPDATE_DOWNLOAD_REFUSED', () => updater.downloadTarget(info, join(dir, 'index.json')));
    return JSON.parse(await readFile(path, 'utf8')) as ModelManifest;
  }

  async #target(updater: Updater, path: string): Promise<TargetFile> {
    // The manifest is signed by hash, but the device still only asks for its own model's paths.
    if (!path.startsWith(`${this.#o.model}/`)) throw new DeviceUpdateError('UPDATE_NOT_FOUND', 'target outside this model');
    const info = await refused('UPDATE_METADATA_REFUSED', () => updater.getTargetInfo(path));
    if (!info) throw new DeviceUpdateError('UPDATE_NOT_FOUND', `no target ${path}`);
    return info;
  }

  #checkPolicy(info: TargetFile, version: string, running: InstalledFirmware, order: number | undefined): void {
    const c = info.custom as { model?: unknown; version?: unknown; hardwareRevisions?: unknown; downgradeAuthorisedDeviceIds?: unknown };
    if (c.model !== this.#o.model || c.version !== version) throw new DeviceUpdateError('UPDATE_NOT_FOUND', 'target metadata names another model or version');
    const revs = Array.isArray(c.hardwareRevisions) ? c.hardwareRevisions : [];
    if (revs.length > 0 && !revs.includes(this.#o.hardwareRevision)) throw new DeviceUpdateError('UPDATE_HARDWARE_MISMATCH', `release does not fit hardware revision ${this.#o.hardwareRevision}`);
    // Anti-rollback: lower (or incomparable) versions only with a downgrade signed for this device.
    if (order === undefined || order < 0) {
      const allowed = Array.isArray(c.downgradeAuthorisedDeviceIds) && c.downgradeAuthorisedDeviceIds.includes(this.#o.deviceId);
      if (!allowed) throw new DeviceUpdateError('UPDATE_DOWNGRADE_REFUSED', `${version} is not above the installed ${running.version}`, { details: { installed: running.version, offered: version } });
    }
  }

  async #install(file: string, info: TargetFile, version: string, running: InstalledFirmware): Promise<UpdateResult> {
    const from = this.slots.active();
    const slot = this.slots.inactive();
    this.#report({ kind: 'installing', version, slot });
    const fileName = info.path.split('/').pop()!;
    const c = info.custom as { releaseId?: unknown };
    const slotFile = this.slots.writeInactive(file, fileName, { version, releaseId: typeof c.releaseId === 'string' ? c.releaseId : null, target: info.path, sha256: info.hashes.sha256 ?? null });
    this.slots.switchTo(slot);
    const healthy = await this.#o.healthCheck(slotFile, version).catch(() => false);
    if (!healthy) {
      this.slots.switchTo(from);
      this.#report({ kind: 'rolled-back', version, code: 'UPDATE_HEALTH_CHECK_FAILED', runningVersion: running.version });
      return { kind: 'rolled-back', version };
    }
    this.#report({ kind: 'installed', version, slot });
    return { kind: 'installed', version };
  }
}

/** Runs a tuf-js step, turning its refusal into a coded error (the cause keeps tuf-js's reason). */
async function refused<T>(code: 'UPDATE_METADATA_REFUSED' | 'UPDATE_DOWNLOAD_REFUSED', fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof DeviceUpdateError) throw e;
    throw new DeviceUpdateError(code, `TUF client refused: ${e instanceof Error ? e.constructor.name : 'error'}`, { cause: e });
  }
}
