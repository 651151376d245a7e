import assert from 'node:assert/strict';
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { describe, it } from 'node:test';
import { rawEcdsaToDer } from './ecdsa-signature.ts';

describe('rawEcdsaToDer', () => {
  for (const [curve, hash] of [['P-256', 'sha256'], ['P-384', 'sha384'], ['P-521', 'sha512']] as const) {
    it(`turns ${curve} r || s into the DER node:crypto produces and verifies`, () => {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
      // 200 signatures cover r or s with a high bit set and with leading zero octets.
      for (let i = 0; i < 200; i++) {
        const data = Buffer.from(`m${i}`);
        const raw = sign(hash, data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
        const der = rawEcdsaToDer(raw);
        assert.ok(verify(hash, data, publicKey, der));
      }
    });
  }

  it('encodes the edge values exactly', () => {
    const r = Buffer.alloc(32);
    r[31] = 1;
    const s = Buffer.alloc(32, 0xff);
    const der = rawEcdsaToDer(Buffer.concat([r, s]));
    assert.equal(der.toString('hex'), `3026020101022100${'ff'.repeat(32)}`);
  });

  describe('when the input is not r || s', () => {
    it('throws', () => {
      assert.throws(() => rawEcdsaToDer(Buffer.alloc(0)), RangeError);
      assert.throws(() => rawEcdsaToDer(Buffer.alloc(63)), RangeError);
      assert.throws(() => rawEcdsaToDer(Buffer.alloc(134)), RangeError);
    });
  });
});
