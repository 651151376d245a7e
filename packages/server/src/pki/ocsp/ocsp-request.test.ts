import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { octetString, oid, seq, tlv } from './der.ts';
import { OcspRequestError, parseOcspRequest } from './ocsp-request.ts';

const SHA1 = seq(oid('1.3.14.3.2.26'), tlv(0x05));
const SHA256 = seq(oid('2.16.840.1.101.3.4.2.1'));

function certId(alg: Buffer, size: number, serial: Buffer): Buffer {
  return seq(alg, octetString(randomBytes(size)), octetString(randomBytes(size)), tlv(0x02, serial));
}

function request(ids: readonly Buffer[], nonce?: Buffer): Buffer {
  const exts = nonce ? [tlv(0xa2, seq(seq(oid('1.3.6.1.5.5.7.48.1.2'), octetString(octetString(nonce)))))] : [];
  return seq(seq(seq(...ids.map((id) => seq(id))), ...exts));
}

const malformed = (b: Buffer): void => assert.throws(() => parseOcspRequest(b), OcspRequestError);

describe('parseOcspRequest', () => {
  it('reads SHA-1 and SHA-256 CertIDs, the serial as stored, and the nonce extnValue', () => {
    const nonce = randomBytes(32);
    const r = parseOcspRequest(request([certId(SHA1, 20, Buffer.from('00ff01', 'hex')), certId(SHA256, 32, Buffer.from('7f', 'hex'))], nonce));
    assert.deepEqual(r.certIds.map((c) => [c.hash, c.serial]), [['sha1', '00ff01'], ['sha256', '7f']]);
    assert.deepEqual(r.nonceExtnValue, octetString(nonce));
    assert.equal(createHash('sha1').update(r.certIds[0]!.der).digest('hex').length, 40);
  });

  describe('when the request is malformed', () => {
    it('refuses nonces of 0 or more than 32 bytes (RFC 8954 §2.1), accepts 1 and 32', () => {
      const id = certId(SHA1, 20, Buffer.from([1]));
      malformed(request([id], Buffer.alloc(0)));
      malformed(request([id], randomBytes(33)));
      assert.ok(parseOcspRequest(request([id], randomBytes(1))).nonceExtnValue);
      assert.ok(parseOcspRequest(request([id], randomBytes(32))).nonceExtnValue);
    });

    it('refuses wrong hash sizes, unknown hash algorithms, empty or oversized lists, long serials and trailing bytes', () => {
      malformed(request([certId(SHA1, 32, Buffer.from([1]))]));
      malformed(request([certId(seq(oid('1.2.840.113549.2.5')), 16, Buffer.from([1]))]));
      malformed(request([]));
      malformed(request(Array.from({ length: 17 }, () => certId(SHA1, 20, Buffer.from([1])))));
      malformed(request([certId(SHA1, 20, randomBytes(22))]));
      malformed(Buffer.concat([request([certId(SHA1, 20, Buffer.from([1]))]), Buffer.from([0])]));
    });

    it('refuses every truncation and indefinite or non-minimal lengths', () => {
      const ok = request([certId(SHA1, 20, Buffer.from([1]))], randomBytes(16));
      for (let i = 0; i < ok.length; i++) malformed(ok.subarray(0, i));
      malformed(Buffer.from([0x30, 0x80, 0x00, 0x00]));
      malformed(Buffer.from([0x30, 0x81, 0x01, 0x00]));
      malformed(Buffer.from([0x1f, 0x01, 0x00]));
    });

    it('never throws anything but OcspRequestError on random input', () => {
      for (let i = 0; i < 2000; i++) {
        const b = randomBytes(1 + (i % 300));
        if (i % 2 === 0) b[0] = 0x30;
        try {
          parseOcspRequest(b);
        } catch (e) {
          assert.ok(e instanceof OcspRequestError, String(e));
        }
      }
    });
  });
});
