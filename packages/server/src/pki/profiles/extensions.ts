import { createHash } from 'node:crypto';
import { boolean, explicit, implicit, integer, namedBits, NULL_DER, octetString, oid, sequence } from '@medtrust/core';
import { isIP } from 'node:net';
import { Oid } from './oids.ts';

// OIDs used per certificate on the issuance hot path, encoded once.
const SKI_OID_DER = oid(Oid.subjectKeyIdentifier);
const SAN_OID_DER = oid(Oid.subjectAltName);
const HMN_OID_DER = oid(Oid.hardwareModuleName);
const oidDer = (o: string | Buffer): Buffer => (typeof o === 'string' ? oid(o) : o);

/** Extension ::= SEQUENCE { extnID, critical DEFAULT FALSE, extnValue OCTET STRING } (RFC 5280 §4.1). */
export function extension(extnId: string | Buffer, critical: boolean, valueDer: Buffer): Buffer {
  // DER: a DEFAULT value is omitted, so `critical` is only written when true.
  return critical ? sequence(oidDer(extnId), boolean(true), octetString(valueDer)) : sequence(oidDer(extnId), octetString(valueDer));
}

/** RFC 5280 §4.2.1.9. CA certificates mark it critical. */
export function basicConstraints(ca: boolean, pathLen?: number): Buffer {
  const parts: Buffer[] = [];
  if (ca) parts.push(boolean(true));
  if (ca && pathLen !== undefined) parts.push(integer(pathLen));
  return extension(Oid.basicConstraints, true, sequence(...parts));
}

/** KeyUsage bit numbers (RFC 5280 §4.2.1.3). */
export const KeyUsageBit = Object.freeze({ digitalSignature: 0, nonRepudiation: 1, keyEncipherment: 2, dataEncipherment: 3, keyAgreement: 4, keyCertSign: 5, cRLSign: 6 });

export function keyUsage(bits: readonly number[]): Buffer {
  return extension(Oid.keyUsage, true, namedBits(bits));
}

export function extKeyUsage(purposes: readonly string[]): Buffer {
  return extension(Oid.extKeyUsage, false, sequence(...purposes.map((p) => oid(p))));
}

/** RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING value. */
export function keyIdentifier(subjectPublicKey: Buffer): Buffer {
  return createHash('sha1').update(subjectPublicKey).digest();
}

export function subjectKeyIdentifier(keyId: Buffer): Buffer {
  return extension(SKI_OID_DER, false, octetString(keyId));
}

/** AuthorityKeyIdentifier with keyIdentifier [0] only (RFC 5280 §4.2.1.1). */
export function authorityKeyIdentifier(keyId: Buffer): Buffer {
  return extension(Oid.authorityKeyIdentifier, false, sequence(implicit(0, keyId)));
}

/** One DistributionPoint with a fullName URI (RFC 5280 §4.2.1.13). */
export function crlDistributionPoints(uri: string): Buffer {
  const generalNames = implicit(0, implicit(6, Buffer.from(uri, 'latin1')), true); // fullName [0] GeneralNames
  return extension(Oid.crlDistributionPoints, false, sequence(sequence(explicit(0, generalNames))));
}

/** AIA with OCSP and caIssuers URIs (RFC 5280 §4.2.2.1). */
export function authorityInfoAccess(ocspUri: string, caIssuersUri: string): Buffer {
  const ad = (method: string, uri: string): Buffer => sequence(oid(method), implicit(6, Buffer.from(uri, 'latin1')));
  return extension(Oid.authorityInfoAccess, false, sequence(ad(Oid.ocsp, ocspUri), ad(Oid.caIssuers, caIssuersUri)));
}

/** id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1): clients need not check the signer's status. */
export function ocspNoCheck(): Buffer {
  return extension(Oid.ocspNoCheck, false, NULL_DER);
}

export interface AltNames {
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  /** RFC 4108 HardwareModuleName: a type OID (dotted, or DER when pre-encoded) and the module's serial number. */
  readonly hardwareModule?: { readonly typeOid: string | Buffer; readonly serial: string };
}

/** SubjectAltName (RFC 5280 §4.2.1.6); critical when the subject Name is empty. */
export function subjectAltName(names: AltNames, critical = false): Buffer {
  const gn: Buffer[] = [];
  if (names.hardwareModule) {
    // otherName [0] { type-id, [0] EXPLICIT HardwareModuleName { hwType, hwSerialNum OCTET STRING } }
    const hmn = sequence(oidDer(names.hardwareModule.typeOid), octetString(Buffer.from(names.hardwareModule.serial, 'utf8')));
    gn.push(implicit(0, Buffer.concat([HMN_OID_DER, explicit(0, hmn)]), true));
  }
  for (const d of names.dnsNames ?? []) {
    if (!/^(\*\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(d)) throw new RangeError(`not a DNS name: ${d}`);
    gn.push(implicit(2, Buffer.from(d.toLowerCase(), 'latin1')));
  }
  for (const ip of names.ipAddresses ?? []) gn.push(implicit(7, ipBytes(ip)));
  return extension(SAN_OID_DER, critical, sequence(...gn));
}

function ipBytes(ip: string): Buffer {
  const v = isIP(ip);
  if (v === 4) return Buffer.from(ip.split('.').map(Number));
  if (v === 6 && !ip.includes('.')) {
    const [head = '', tail = ''] = ip.includes('::') ? ip.split('::') : [ip, ''];
    const h = head ? head.split(':') : [];
    const t = tail ? tail.split(':') : [];
    const groups = ip.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
    const out = Buffer.alloc(16);
    groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
    return out;
  }
  throw new RangeError(`not an IP address: ${ip}`);
}
