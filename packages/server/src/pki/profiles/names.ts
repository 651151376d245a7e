import { isPrintableString, oid, printableString, sequence, setOf, utf8String } from '@medtrust/core';
import { Oid } from './oids.ts';

/** The attribute types our profiles put in a Name, in RFC 4514 short form. */
export type NameAttributeType = 'C' | 'O' | 'OU' | 'title' | 'CN' | 'serialNumber';

export interface NameAttribute {
  readonly type: NameAttributeType;
  readonly value: string;
}

// The attribute type OIDs are encoded once: names are built per certificate on the hot path.
const TYPES: Readonly<Record<NameAttributeType, { oidDer: Buffer; printable: boolean }>> = {
  C: { oidDer: oid(Oid.countryName), printable: true },
  O: { oidDer: oid(Oid.organizationName), printable: false },
  OU: { oidDer: oid(Oid.organizationalUnitName), printable: false },
  title: { oidDer: oid(Oid.title), printable: false },
  CN: { oidDer: oid(Oid.commonName), printable: false },
  // X.520: serialNumber and countryName are PrintableString.
  serialNumber: { oidDer: oid(Oid.serialNumber), printable: true },
};

export interface EncodedName {
  readonly der: Buffer;
  /** RFC 4514 string, most significant RDN last (as OpenSSL's -nameopt RFC2253 prints it). */
  readonly text: string;
}

/**
 * A Name with one attribute per RDN, in the order given (most significant first). Values are
 * UTF8String (RFC 5280 §4.1.2.6), except the PrintableString types.
 */
export function encodeName(attrs: readonly NameAttribute[]): EncodedName {
  const rdns = attrs.map((a) => {
    const t = TYPES[a.type];
    if (a.value.length === 0 || a.value.length > 64) throw new RangeError(`${a.type} must be 1-64 characters`);
    if (t.printable && !isPrintableString(a.value)) throw new RangeError(`${a.type} must be a PrintableString`);
    return setOf(sequence(t.oidDer, t.printable ? printableString(a.value) : utf8String(a.value)));
  });
  const text = [...attrs].reverse().map((a) => `${a.type}=${escapeRfc4514(a.value)}`).join(',');
  return { der: sequence(...rdns), text };
}

function escapeRfc4514(v: string): string {
  return v.replace(/[\\,+"<>;=]/g, (c) => `\\${c}`).replace(/^[ #]/, (c) => `\\${c}`).replace(/ $/, '\\ ');
}
