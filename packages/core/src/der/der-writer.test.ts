import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import * as asn1js from 'asn1js';
import { derLength, integer, namedBits, NO_EXPIRY_MS, oid, printableString, x509Time } from './der-writer.ts';
import { decodeOid, readElement } from './der-reader.ts';

const hex = (b: Buffer): string => b.toString('hex');

describe('der-writer', () => {
  it('encodes lengths in the minimal form (X.690 §10.1)', () => {
    assert.equal(hex(derLength(0)), '00');
    assert.equal(hex(derLength(127)), '7f');
    assert.equal(hex(derLength(128)), '8180');
    assert.equal(hex(derLength(255)), '81ff');
    assert.equal(hex(derLength(256)), '820100');
    assert.equal(hex(derLength(65536)), '83010000');
  });

  it('encodes INTEGERs with a sign octet only when needed', () => {
    assert.equal(hex(integer(0)), '020100');
    assert.equal(hex(integer(127)), '02017f');
    assert.equal(hex(integer(128)), '02020080');
    assert.equal(hex(integer(Buffer.from('0000ff', 'hex'))), '020200ff');
    assert.equal(hex(integer(2n ** 64n)), '0209010000000000000000');
  });

  it('encodes OIDs as asn1js decodes them, and our reader round-trips them', () => {
    for (const o of ['1.2.840.10045.4.3.2', '2.5.29.37', '1.3.6.1.5.5.7.8.4', '2.25.329800735698586629295641978511506172918', '2.999.1', '0.9.2342.19200300.100.1.1']) {
      const der = oid(o);
      const parsed = asn1js.fromBER(new Uint8Array(der));
      const viaAsn1js = (parsed.result as asn1js.ObjectIdentifier).valueBlock.toString();
      // asn1js prints arcs beyond 2^53 in hex braces; OpenSSL prints them in decimal.
      const independent = viaAsn1js.includes('{') ? /OBJECT\s*:(\S+)/.exec(execFileSync('openssl', ['asn1parse', '-inform', 'DER'], { input: der, encoding: 'utf8' }))?.[1] : viaAsn1js;
      assert.equal(independent, o);
      assert.equal(decodeOid(der, readElement(der, 0)), o);
    }
    assert.throws(() => oid('3.1'), RangeError);
    assert.throws(() => oid('1.40'), RangeError);
  });

  it('drops trailing zero bits of named BIT STRINGs (X.690 §11.2.2)', () => {
    assert.equal(hex(namedBits([0])), '03020780'); // digitalSignature
    assert.equal(hex(namedBits([5, 6])), '03020106'); // keyCertSign, cRLSign
    assert.equal(hex(namedBits([0, 2])), '030205a0');
  });

  describe('x509Time (RFC 5280 §4.1.2.5)', () => {
    it('uses UTCTime through 2049 and GeneralizedTime from 2050', () => {
      assert.equal(x509Time(Date.UTC(2049, 11, 31, 23, 59, 59)).toString('latin1', 2), '491231235959Z');
      assert.equal(x509Time(Date.UTC(2049, 11, 31, 23, 59, 59))[0], 0x17);
      assert.equal(x509Time(Date.UTC(2050, 0, 1)).toString('latin1', 2), '20500101000000Z');
      assert.equal(x509Time(Date.UTC(2050, 0, 1))[0], 0x18);
      assert.equal(x509Time(Date.UTC(1950, 0, 1)).toString('latin1', 2), '500101000000Z');
      assert.equal(x509Time(Date.UTC(1949, 11, 31)).toString('latin1', 2), '19491231000000Z');
    });
    it('writes the IDevID "no expiry" value 99991231235959Z and truncates milliseconds', () => {
      assert.equal(x509Time(NO_EXPIRY_MS).toString('latin1'), '\x18\x0f99991231235959Z');
      assert.equal(x509Time(Date.UTC(2030, 5, 1, 12, 0, 0, 999)).toString('latin1', 2), '300601120000Z');
    });
  });

  it('refuses characters outside PrintableString', () => {
    assert.throws(() => printableString('a_b'), RangeError);
    assert.throws(() => printableString('é'), RangeError);
    assert.equal(hex(printableString('SN-1')), '1304534e2d31');
  });
});
