import { X509Certificate } from 'node:crypto';
import { type Clock, isMedTrustError, systemClock } from '@medtrust/core';
import type { AuditLog } from '../../audit/index.ts';
import type { DeviceState } from '../../devices/index.ts';
import type { ConsumedEnrollToken, EnrollTokenService } from '../enroll/index.ts';
import { PkiError } from '../errors.ts';
import type { CaName, CertificateAuthorities, CertificateStore, IssuedCertificate, Issuer, LoadedCa } from '../pki-contracts.ts';
import { verifyClientCertificate } from './client-certificate.ts';
import { assertSameSubject } from './csr-subject.ts';
import { pkcs7CertsOnly } from './pkcs7-certs-only.ts';

/** What EST needs of the device registry (implemented by devices/ DeviceRegistry). */
export interface EstDeviceRegistry {
  find(id: string): Promise<{ readonly id: string; readonly tenantId: string; readonly state: DeviceState } | undefined>;
  /** `onlyFrom`: the move happens only from that state, otherwise it is a no-op (DeviceRegistry.transition). */
  transition(id: string, to: DeviceState, actor: string, opts?: { readonly onlyFrom?: DeviceState }): Promise<unknown>;
}

/** How an EST caller proved who it is. */
export type EstCredentials =
  | { readonly kind: 'basic'; readonly username: string; readonly password: string }
  | { readonly kind: 'client-certificate'; readonly der: Buffer }
  | { readonly kind: 'none' };

export interface EstEnrolment {
  readonly issued: IssuedCertificate;
  readonly deviceId: string;
  /** certs-only PKCS#7 (DER) holding the new certificate, for the response body. */
  readonly pkcs7Der: Buffer;
}

// Quarantined and decommissioned devices get no new operational identity.
const ENROLLABLE: ReadonlySet<DeviceState> = new Set<DeviceState>(['manufactured', 'provisioned', 'enrolled', 'active']);

/** EST operations (RFC 7030 §4) over the issuance service, certificate store and registry. */
export class EstService {
  readonly #cas: CertificateAuthorities;
  readonly #issuer: Issuer;
  readonly #store: CertificateStore;
  readonly #devices: EstDeviceRegistry;
  readonly #tokens: EnrollTokenService;
  readonly #audit: AuditLog;
  readonly #clock: Clock;
  #cacerts: Buffer | undefined;
  // Parsed once per loaded CA (a re-initialised hierarchy hands out new LoadedCa objects).
  readonly #parsed = new WeakMap<LoadedCa, X509Certificate>();

  constructor(opts: { cas: CertificateAuthorities; issuer: Issuer; store: CertificateStore; devices: EstDeviceRegistry; tokens: EnrollTokenService; audit: AuditLog; clock?: Clock }) {
    this.#cas = opts.cas;
    this.#issuer = opts.issuer;
    this.#store = opts.store;
    this.#devices = opts.devices;
    this.#tokens = opts.tokens;
    this.#audit = opts.audit;
    this.#clock = opts.clock ?? systemClock;
  }

  /** RFC 7030 §4.1.3: the Operational CA chain, root included, as certs-only PKCS#7 DER. */
  async caCerts(): Promise<Buffer> {
    if (!this.#cacerts) {
      const op = await this.#cas.get('operational');
      this.#cacerts = pkcs7CertsOnly(op.chainDer);
    }
    return this.#cacerts;
  }

  /** RFC 7030 §4.2.1: first enrolment, by IDevID client certificate or one-time secret. */
  async simpleEnroll(creds: EstCredentials, csrDer: Buffer): Promise<EstEnrolment> {
    let secret: ConsumedEnrollToken | undefined;
    let deviceId: string | undefined;
    try {
      switch (creds.kind) {
        case 'basic':
          secret = await this.#tokens.consume(creds.username, creds.password, 'est');
          deviceId = secret.deviceId;
          break;
        case 'client-certificate': {
          // RFC 7030 §3.3.2 / IEEE 802.1AR: bootstrap enrolment is authorised by the birth certificate.
          const v = await verifyClientCertificate({ der: creds.der, ...(await this.#ca('manufacturing')), profile: 'idevid', store: this.#store, nowMs: this.#clock.nowMs() });
          deviceId = v.deviceId;
          break;
        }
        case 'none':
          throw new PkiError('ENROLL_UNAUTHORIZED', 'present an IDevID client certificate or HTTP Basic enrolment credentials');
        default:
          creds satisfies never;
      }
      const device = await this.#enrollableDevice(deviceId);
      const current = await this.#store.currentForDevice(device.id, 'ldevid');
      // The subject (CN = device id) comes from the registry inside issueLdevid, never from the CSR.
      const issued = await this.#issuer.issueLdevid({ deviceId: device.id, csrDer, replacesSerial: current?.serial, actor: `est:${creds.kind}` });
      secret = undefined; // issued: the secret stays consumed
      if (device.state === 'manufactured' || device.state === 'provisioned') {
        // Only from the state read above: a quarantine recorded meanwhile stands.
        await this.#devices.transition(device.id, 'enrolled', `est:${creds.kind}`, { onlyFrom: device.state });
      }
      await this.#audit.append({ actor: `est:${creds.kind}`, action: 'pki.est.enrolled', target: `device:${device.id}`, tenantId: device.tenantId, details: { serial: issued.serial, replaces: current?.serial ?? null, operation: 'simpleenroll' } });
      return { issued, deviceId: device.id, pkcs7Der: pkcs7CertsOnly([issued.der]) };
    } catch (e) {
      await secret?.release();
      await this.#refused('simpleenroll', creds.kind, deviceId, e);
      throw e;
    }
  }

  /** RFC 7030 §4.2.2: renewal/rekey, authorised only by the current LDevID. */
  async simpleReenroll(creds: EstCredentials, csrDer: Buffer): Promise<EstEnrolment> {
    let deviceId: string | undefined;
    try {
      // RFC 7030 §4.2.2: the client authenticates with the certificate it is renewing; a
      // one-time secret or an IDevID is not enough here.
      if (creds.kind !== 'client-certificate') throw new PkiError('ENROLL_UNAUTHORIZED', 'simplereenroll requires the current LDevID as the TLS client certificate');
      const v = await verifyClientCertificate({ der: creds.der, ...(await this.#ca('operational')), profile: 'ldevid', store: this.#store, nowMs: this.#clock.nowMs() });
      deviceId = v.deviceId;
      const device = await this.#enrollableDevice(deviceId);
      const current = await this.#store.currentForDevice(device.id, 'ldevid');
      if (current?.serial !== v.record.serial) throw new PkiError('CERT_REVOKED', 'the client certificate is no longer the device\'s current LDevID', { details: { serial: v.record.serial } });
      assertSameSubject(csrDer, creds.der);
      const issued = await this.#issuer.issueLdevid({ deviceId: device.id, csrDer, replacesSerial: v.record.serial, actor: 'est:ldevid' });
      await this.#audit.append({ actor: 'est:ldevid', action: 'pki.est.reenrolled', target: `device:${device.id}`, tenantId: device.tenantId, details: { serial: issued.serial, replaces: v.record.serial, operation: 'simplereenroll' } });
      return { issued, deviceId: device.id, pkcs7Der: pkcs7CertsOnly([issued.der]) };
    } catch (e) {
      await this.#refused('simplereenroll', creds.kind, deviceId, e);
      throw e;
    }
  }

  async #ca(name: CaName): Promise<{ ca: LoadedCa; caCertificate: X509Certificate }> {
    const ca = await this.#cas.get(name);
    let caCertificate = this.#parsed.get(ca);
    if (!caCertificate) this.#parsed.set(ca, (caCertificate = new X509Certificate(ca.certificateDer)));
    return { ca, caCertificate };
  }

  async #enrollableDevice(deviceId: string | undefined): Promise<{ readonly id: string; readonly tenantId: string; readonly state: DeviceState }> {
    const device = deviceId === undefined ? undefined : await this.#devices.find(deviceId);
    if (!device) throw new PkiError('DEVICE_UNKNOWN', 'the device is not in the registry');
    if (!ENROLLABLE.has(device.state)) throw new PkiError('DEVICE_STATE_INVALID', `a ${device.state} device cannot enrol`, { details: { state: device.state } });
    return device;
  }

  async #refused(operation: string, auth: EstCredentials['kind'], deviceId: string | undefined, e: unknown): Promise<void> {
    const code = isMedTrustError(e) ? e.code : 'INTERNAL';
    await this.#audit.append({ actor: `est:${auth}`, action: 'pki.est.refused', outcome: 'denied', target: deviceId ? `device:${deviceId}` : null, details: { operation, code } });
  }
}
