import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { openAes256Gcm, sealAes256Gcm } from './aead.ts';

describe('sealAes256Gcm', () => {
  const key = randomBytes(32);
  it('round-trips and refuses another AAD, another key or a flipped byte', () => {
    const sealed = sealAes256Gcm(key, 'secret value', 'row-1\u0000field');
    assert.equal(openAes256Gcm(key, sealed, 'row-1\u0000field').toString('utf8'), 'secret value');
    assert.throws(() => openAes256Gcm(key, sealed, 'row-2\u0000field'));
    assert.throws(() => openAes256Gcm(randomBytes(32), sealed, 'row-1\u0000field'));
    const flipped = Buffer.from(sealed);
    flipped[flipped.length - 1]! ^= 1;
    assert.throws(() => openAes256Gcm(key, flipped, 'row-1\u0000field'));
  });
});
