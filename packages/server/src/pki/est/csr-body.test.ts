import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { isMedTrustError } from '@medtrust/core';
import { decodeCsrBody, MAX_CSR_BYTES } from './csr-body.ts';

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (isMedTrustError(e)) return e.code;
    throw e;
  }
  return 'returned';
}

// A DER SEQUENCE of a given total size; the framing check does not look inside.
function seq(contentBytes: number): Buffer {
  const body = Buffer.alloc(contentBytes, 1);
  const len = contentBytes < 128 ? Buffer.from([contentBytes]) : Buffer.from([0x82, contentBytes >> 8, contentBytes & 0xff]);
  return Buffer.concat([Buffer.from([0x30]), len, body]);
}

describe('decodeCsrBody', () => {
  const der = seq(300);
  it('accepts base64 with or without line breaks and PEM armour', () => {
    const b64 = der.toString('base64');
    assert.deepEqual(decodeCsrBody(b64), der);
    assert.deepEqual(decodeCsrBody(Buffer.from(b64.replace(/(.{64})/g, '$1\r\n'))), der);
    assert.deepEqual(decodeCsrBody(`-----BEGIN CERTIFICATE REQUEST-----\n${b64}\n-----END CERTIFICATE REQUEST-----\n`), der);
  });
  it('refuses empty, non-base64, truncated, padded and non-SEQUENCE bodies with CSR_INVALID', () => {
    assert.equal(codeOf(() => decodeCsrBody('')), 'CSR_INVALID');
    assert.equal(codeOf(() => decodeCsrBody('not base64 at all!')), 'CSR_INVALID');
    assert.equal(codeOf(() => decodeCsrBody(der.subarray(0, 200).toString('base64'))), 'CSR_INVALID');
    assert.equal(codeOf(() => decodeCsrBody(Buffer.concat([der, Buffer.from([0])]).toString('base64'))), 'CSR_INVALID');
    assert.equal(codeOf(() => decodeCsrBody(Buffer.from([0x04, 0x01, 0x00]).toString('base64'))), 'CSR_INVALID');
    assert.equal(codeOf(() => decodeCsrBody(Buffer.from([0x30, 0x80, 0x00, 0x00]).toString('base64'))), 'CSR_INVALID');
  });
  it('refuses a CSR over the limit with CSR_TOO_LARGE', () => {
    assert.equal(codeOf(() => decodeCsrBody(seq(MAX_CSR_BYTES).toString('base64'))), 'CSR_TOO_LARGE');
  });
  it('never throws anything but a coded error on random and truncated input', () => {
    const real = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' });
    for (let i = 0; i < 2000; i++) {
      const input = i % 2 === 0 ? real.subarray(0, i % real.length) : Buffer.from(Array.from({ length: i % 97 }, () => Math.floor(Math.random() * 256)));
      try {
        decodeCsrBody(input.toString('base64'));
      } catch (e) {
        assert.ok(isMedTrustError(e), String(e));
      }
    }
  });
});
