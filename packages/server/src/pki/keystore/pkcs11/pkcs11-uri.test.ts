import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatKeyUri, parseKeyUri } from './pkcs11-uri.ts';

describe('pkcs11 key URIs', () => {
  it('round-trips label and id (RFC 7512 percent-encoding)', () => {
    const id = Buffer.from('00ff10a5', 'hex');
    const ref = formatKeyUri('ca-root.v1', id);
    assert.equal(ref, 'pkcs11:object=ca-root.v1;id=%00%ff%10%a5;type=private');
    const back = parseKeyUri(ref);
    assert.equal(back?.label, 'ca-root.v1');
    assert.ok(back?.id?.equals(id));
    assert.equal(back?.token, undefined);
  });

  it('reads a token attribute and unescaped id characters', () => {
    const back = parseKeyUri('pkcs11:token=My%20HSM;object=k;id=A1');
    assert.equal(back?.token, 'My HSM');
    assert.ok(back?.id?.equals(Buffer.from('A1')));
  });

  it('leaves the id out when the URI names the key by label only', () => {
    const back = parseKeyUri('pkcs11:object=ca-root;type=private');
    assert.equal(back?.label, 'ca-root');
    assert.equal(back?.id, undefined);
  });

  describe('when the ref is not a key URI', () => {
    it('returns undefined', () => {
      for (const ref of [
        'file:ca-root', 'pkcs11:', 'pkcs11:id=%01', 'pkcs11:object=k;id=%01;type=public',
        'pkcs11:object=k;id=%01?module-path=/tmp/x.so', 'pkcs11:object=k;id=%0', 'pkcs11:object=k;id=%01;id=%02',
        'pkcs11:object=%E0%A4%A;id=%01', 'pkcs11:object=;id=%01', 'pkcs11:object=k;id=', 'pkcs11:object=k;;id=%01',
      ]) {
        assert.equal(parseKeyUri(ref), undefined, ref);
      }
    });
  });
});
