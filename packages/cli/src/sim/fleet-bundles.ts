import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreError } from '@medtrust/core';
import { DEVICE_MODELS, kindAt, type SimDeviceKind, type SimIdentity, type SimProfile } from '@medtrust/device/sim';
import type { Platform } from '@medtrust/server';

/** A factory bundle (`medtrust factory provision` layout: `<serial>/chain.pem`, `key.pem`, `device.json`). */
export interface FleetBundle {
  readonly id: string;
  readonly serial: string;
  readonly model: string;
  readonly dir: string;
  readonly chainPem: string;
  readonly keyPem: string;
}

const KIND_OF_MODEL = new Map(Object.entries(DEVICE_MODELS).map(([kind, m]) => [m.model, kind as SimDeviceKind]));

/** The simulator's device class for a model it provisioned itself; undefined for other models. */
export function kindOfModel(model: string): SimDeviceKind | undefined {
  return KIND_OF_MODEL.get(model);
}

/** Bundles in `dir`, by serial; folders without a key (CSR-mode devices keep theirs) are skipped. */
export function readBundles(dir: string): FleetBundle[] {
  if (!existsSync(dir)) return [];
  const out: FleetBundle[] = [];
  for (const serial of readdirSync(dir).sort()) {
    const d = join(dir, serial);
    if (!existsSync(join(d, 'device.json')) || !existsSync(join(d, 'key.pem'))) continue;
    const meta = JSON.parse(readFileSync(join(d, 'device.json'), 'utf8')) as { id: string; serial: string; model: string };
    out.push({ id: meta.id, serial: meta.serial, model: meta.model, dir: d, chainPem: readFileSync(join(d, 'chain.pem'), 'utf8'), keyPem: readFileSync(join(d, 'key.pem'), 'utf8') });
  }
  return out;
}

/** The IDevID bundle as the device presents it to EST (RFC 7030 §3.3.2: birth certificate over TLS). */
export function identityOf(b: FleetBundle): SimIdentity {
  return { deviceId: b.id, serial: b.serial, model: b.model, auth: { kind: 'idevid', certPem: b.chainPem, keyPem: b.keyPem } };
}

/**
 * The factory station: tops `dir` up to `count` devices of the profile's classes, each with an
 * IDevID from the platform's Manufacturing CA and the firmware it leaves the factory with, and
 * writes their bundles. Existing bundles are reused, so a rerun onboards the same devices.
 */
export async function provisionFleet(p: Platform, o: { dir: string; count: number; profile: SimProfile; tenantId: string; firmwareOf?: (kind: SimDeviceKind, index: number) => string; onProgress?: (done: number, total: number) => void }): Promise<FleetBundle[]> {
  if (!Number.isInteger(o.count) || o.count < 1 || o.count > 10_000) throw new CoreError('REQUEST_INVALID', '--devices must be 1-10000');
  const s = p.services;
  const have = readBundles(o.dir).filter((b) => kindOfModel(b.model) !== undefined);
  const missing = new Map<SimDeviceKind, number[]>();
  for (let i = have.length; i < o.count; i++) {
    const kind = kindAt(o.profile, i);
    missing.set(kind, [...(missing.get(kind) ?? []), i]);
  }
  let done = have.length;
  mkdirSync(o.dir, { recursive: true, mode: 0o700 });
  for (const [kind, indexes] of missing) {
    const { model } = DEVICE_MODELS[kind];
    const prefix = `SIM${kind[0]!.toUpperCase()}-`;
    const first = await s.provisioning.nextSequence(model, prefix);
    const serials = indexes.map((_, k) => `${prefix}${String(first + k).padStart(6, '0')}`);
    const devices = await s.provisioning.provision({ model, hardwareRevision: 'A', serials, tenantId: o.tenantId, actor: 'simulator' });
    for (const [k, d] of devices.entries()) {
      if (!d.privateKeyPem) throw new Error('factory provisioning returned no generated key');
      await s.devices.recordFirmware(d.id, o.firmwareOf?.(kind, indexes[k]!) ?? DEVICE_MODELS[kind].firmwareVersion, 'factory');
      const dir = join(o.dir, d.serial);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      writeFileSync(join(dir, 'chain.pem'), d.idevid.chainPem);
      writeFileSync(join(dir, 'key.pem'), d.privateKeyPem, { mode: 0o600 });
      writeFileSync(join(dir, 'device.json'), `${JSON.stringify({ id: d.id, serial: d.serial, model: d.model, hardwareRevision: d.hardwareRevision, batchId: d.batchId, certificateSerial: d.idevid.serial })}\n`);
      o.onProgress?.(++done, o.count);
    }
  }
  return readBundles(o.dir).filter((b) => kindOfModel(b.model) !== undefined).slice(0, o.count);
}

/** Milliseconds from `500ms`, `30s`, `5m`, `2h` (a bare number is seconds). */
export function parseDuration(text: string, option: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new CoreError('REQUEST_INVALID', `${option} must be a duration like 30s, 5m or 2h`);
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(m[1]) * factor);
}
