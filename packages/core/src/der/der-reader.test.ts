import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { children, DerDecodeError, readElement } from './der-reader.ts';
import { integer, sequence, utf8String } from './der-writer.ts';

describe('der-reader', () => {
  it('reads what the writer writes', () => {
    const der = sequence(integer(5), utf8String('x'.repeat(300)));
    const top = readElement(der, 0);
    assert.equal(top.end, der.length);
    const [a, b] = children(der, top);
    assert.equal(a?.tag, 0x02);
    assert.equal((b?.end ?? 0) - (b?.contentStart ?? 0), 300);
  });

  it('refuses indefinite, non-minimal and overlong lengths', () => {
    assert.throws(() => readElement(Buffer.from('308000000000', 'hex'), 0), DerDecodeError);
    assert.throws(() => readElement(Buffer.from('30810100', 'hex'), 0), DerDecodeError);
    assert.throws(() => readElement(Buffer.from('3082000100', 'hex'), 0), DerDecodeError);
    assert.throws(() => readElement(Buffer.from('3085ffffffffff', 'hex'), 0), DerDecodeError);
    assert.throws(() => readElement(Buffer.from('3005020100', 'hex'), 0), DerDecodeError);
  });

  it('throws only DerDecodeError on random input', () => {
    for (let i = 0; i < 5000; i++) {
      const buf = randomBytes(1 + (i % 64));
      try {
        const e = readElement(buf, 0);
        if (e.tag & 0x20) children(buf, e);
      } catch (err) {
        assert.ok(err instanceof DerDecodeError, String(err));
      }
    }
  });
});
