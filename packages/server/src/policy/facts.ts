/** How a fact's value is compared: the operators allowed depend on it. */
export type FactType = 'string' | 'number' | 'semver' | 'ip' | 'boolean';

/** Every fact a condition may name, with its type; an unknown fact is POLICY_INVALID. */
export const FACTS: Readonly<Record<string, { readonly type: FactType; readonly doc: string }>> = {
  'device.id': { type: 'string', doc: 'device id' },
  'device.serial': { type: 'string', doc: 'manufacturer serial' },
  'device.model': { type: 'string', doc: 'device model' },
  'device.hardwareRevision': { type: 'string', doc: 'hardware revision' },
  'device.state': { type: 'string', doc: 'lifecycle state (manufactured ... decommissioned)' },
  'device.firmwareVersion': { type: 'semver', doc: 'installed firmware version (absent when unknown)' },
  'device.tenantId': { type: 'string', doc: 'owning tenant' },
  'device.siteId': { type: 'string', doc: 'site the device is placed at (absent when none)' },
  'vulns.affectedCount': { type: 'number', doc: 'vulnerabilities affecting the installed firmware' },
  'vulns.kevCount': { type: 'number', doc: 'of those, listed in CISA KEV' },
  'vulns.kevMaxDaysUnpatched': { type: 'number', doc: 'days the oldest KEV-listed vulnerability has been open on this firmware (since the later of its KEV listing and its match); absent when none' },
  'cert.daysToExpiry': { type: 'number', doc: 'days until the current LDevID expires (absent without one)' },
  'cert.keyType': { type: 'string', doc: 'key type of the certificate or CSR: ec-p256, ec-p384, ed25519, rsa' },
  'cert.rsaBits': { type: 'number', doc: 'RSA modulus size (absent for other key types)' },
  'connection.remoteAddress': { type: 'ip', doc: 'address of the connecting (connect hook) or last connection (schedule)' },
  'connection.transport': { type: 'string', doc: 'mqtt or https' },
  'command.kind': { type: 'string', doc: 'kind of the command requested (command hook)' },
};

/** The facts one evaluation sees: names from FACTS to values; an absent fact is undefined. */
export type Facts = Readonly<Record<string, string | number | boolean | undefined>>;

export function isKnownFact(name: string): boolean {
  return Object.hasOwn(FACTS, name);
}
