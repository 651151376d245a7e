import { X509Certificate } from 'node:crypto';
import { type Clock, systemClock } from '@medtrust/core';
import { type CertificateRecord, type CertificateStore, PkiError } from '../pki/index.ts';
import type { DeviceDirectory, DeviceView } from './device-directory.ts';
import { GatewayError } from './errors.ts';

/** An authenticated device connection: who it is, from its certificate alone. */
export interface DeviceSession {
  readonly deviceId: string;
  readonly tenantId: string;
  readonly model: string;
  readonly certSerial: string;
  readonly certNotAfter: number;
}

/** Policy seam asked at connect time (policy/ implements it; the gateway does not import it). */
export interface DeviceAdmission {
  /** Throws a coded error (POLICY_DENIED) when an enabled policy refuses the device. */
  admitConnect(c: { deviceId: string; transport?: string; remoteAddress?: string | null }): Promise<void>;
}

/**
 * Maps a TLS client certificate to a device. The TLS layer has already verified the chain to the
 * Operational CA; this checks what TLS cannot: that the certificate is the device's current,
 * unrevoked LDevID in our store, and that the device may connect.
 */
export class DeviceAuthenticator {
  readonly #certificates: CertificateStore;
  readonly #devices: DeviceDirectory;
  readonly #clock: Clock;
  readonly #admission: DeviceAdmission | undefined;

  constructor(opts: { certificates: CertificateStore; devices: DeviceDirectory; clock?: Clock; admission?: DeviceAdmission }) {
    this.#certificates = opts.certificates;
    this.#devices = opts.devices;
    this.#clock = opts.clock ?? systemClock;
    this.#admission = opts.admission;
  }

  /**
   * Throws a coded error (GatewayError or PkiError) when the device must be refused. `connection`
   * (transport, peer address) is what connect-time policies see as `connection.*` facts.
   */
  async authenticate(certDer: Buffer | undefined, connection?: { readonly transport: 'mqtt' | 'https'; readonly remoteAddress: string | null }): Promise<DeviceSession> {
    if (!certDer || certDer.length === 0) throw new GatewayError('CLIENT_CERT_REQUIRED', 'no client certificate');
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(certDer);
    } catch (cause) {
      throw new PkiError('CERT_INVALID', 'the client certificate cannot be parsed', { cause });
    }
    const record = await this.#find(cert);
    // Only a certificate we issued, byte for byte: a forged one with a copied serial does not pass.
    if (!record || !Buffer.from(record.der).equals(certDer)) throw new PkiError('CERT_UNTRUSTED', 'the client certificate is not one this platform issued');
    if (record.profile !== 'ldevid' || record.ca_name !== 'operational' || record.device_id === null) {
      throw new GatewayError('CLIENT_CERT_REQUIRED', 'an LDevID of the Operational CA is required');
    }
    // IEEE 802.1AR §6.2: the LDevID subject names the device; the id comes from here, never from
    // the MQTT client id, username or payload.
    const cn = commonName(cert.subject);
    if (cn !== record.device_id) throw new PkiError('CERT_UNTRUSTED', 'the certificate subject does not name its device');
    if (record.status !== 'valid') throw new PkiError('CERT_REVOKED', `the client certificate is ${record.status}`, { details: { serial: record.serial } });
    const now = this.#clock.nowMs();
    if (now < record.not_before || now >= record.not_after) throw new PkiError('CERT_EXPIRED', 'the client certificate is outside its validity period', { details: { serial: record.serial } });
    const current = await this.#certificates.currentForDevice(record.device_id, 'ldevid');
    if (!current || current.serial !== record.serial) throw new PkiError('CERT_REVOKED', 'the client certificate was replaced by a newer LDevID', { details: { serial: record.serial } });
    const device = await this.#admissible(record.device_id);
    // docs/policy.md: connect-time policies (e.g. minimum firmware per model) once per connection.
    await this.#admission?.admitConnect({ deviceId: device.id, ...(connection ? { transport: connection.transport, remoteAddress: connection.remoteAddress } : {}) });
    return { deviceId: device.id, tenantId: device.tenantId, model: device.model, certSerial: record.serial, certNotAfter: record.not_after };
  }

  /**
   * External mode: the broker verified the certificate and mapped its CN to the topic's device id
   * (use_identity_as_username + ACL); this re-checks what the broker cannot know live: that the
   * device still has a valid current LDevID and may send data.
   */
  async authenticateBrokerIdentity(deviceId: string): Promise<DeviceSession> {
    const current = await this.#certificates.currentForDevice(deviceId, 'ldevid');
    if (!current || current.status !== 'valid') throw new PkiError('CERT_REVOKED', 'the device has no valid LDevID');
    const now = this.#clock.nowMs();
    if (now < current.not_before || now >= current.not_after) throw new PkiError('CERT_EXPIRED', 'the device LDevID is outside its validity period');
    const device = await this.#admissible(deviceId);
    return { deviceId: device.id, tenantId: device.tenantId, model: device.model, certSerial: current.serial, certNotAfter: current.not_after };
  }

  async #admissible(deviceId: string): Promise<DeviceView> {
    const device = await this.#devices.get(deviceId);
    if (!device) throw new PkiError('DEVICE_UNKNOWN', 'the device is not in the registry');
    switch (device.state) {
      case 'enrolled':
      case 'active':
        break;
      case 'quarantined':
        throw new GatewayError('DEVICE_QUARANTINED', 'the device is quarantined');
      case 'decommissioned':
        throw new GatewayError('DEVICE_DECOMMISSIONED', 'the device is decommissioned');
      case 'manufactured':
      case 'provisioned':
        throw new GatewayError('DEVICE_NOT_ENROLLED', 'the device has not completed enrolment');
      default:
        device.state satisfies never;
    }
    return device;
  }

  async #find(cert: X509Certificate): Promise<CertificateRecord | undefined> {
    const hex = cert.serialNumber.toLowerCase();
    // The store keys serials as DER INTEGER contents: a 00 byte precedes a set top bit.
    for (const serial of /^[89a-f]/.test(hex) ? [`00${hex}`, hex] : [hex]) {
      const r = await this.#certificates.get(serial);
      if (r) return r;
    }
    return undefined;
  }
}

function commonName(subject: string): string | undefined {
  for (const line of subject.split('\n')) if (line.startsWith('CN=')) return line.slice(3);
  return undefined;
}
