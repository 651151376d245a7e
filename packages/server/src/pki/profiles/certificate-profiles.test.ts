import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as x509 from '@peculiar/x509';
import { issuerUrls, modelTypeOid, newSerial } from './certificate-profiles.ts';
import { subjectAltName } from './extensions.ts';
import { encodeName } from './names.ts';

describe('certificate profiles', () => {
  it('makes 16-octet positive serials with no leading zero octet', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const s = newSerial();
      assert.equal(s.length, 16);
      assert.equal((s[0] as number) & 0xc0, 0x40);
      seen.add(s.toString('hex'));
    }
    assert.equal(seen.size, 2000);
  });

  it('derives a stable 2.25 UUID OID per model, with version 5 and RFC 4122 variant bits', () => {
    const a = modelTypeOid('InfuPump 5');
    assert.equal(a, modelTypeOid('InfuPump 5'));
    assert.notEqual(a, modelTypeOid('InfuPump 6'));
    const hex = BigInt(a.slice('2.25.'.length)).toString(16).padStart(32, '0');
    assert.equal(hex[12], '5');
    assert.ok(['8', '9', 'a', 'b'].includes(hex[16] as string));
  });

  it('encodes names that @peculiar/x509 reads back, escaping RFC 4514 specials in the text form', () => {
    const n = encodeName([{ type: 'O', value: 'Acme, Inc.' }, { type: 'CN', value: 'Pump #1' }, { type: 'serialNumber', value: 'SN-1' }]);
    assert.equal(n.text, 'serialNumber=SN-1,CN=Pump #1,O=Acme\\, Inc.');
    const parsed = new x509.Name(new Uint8Array(n.der));
    assert.deepEqual(parsed.getField('CN'), ['Pump #1']);
    assert.deepEqual(parsed.getField('O'), ['Acme, Inc.']);
    assert.throws(() => encodeName([{ type: 'serialNumber', value: 'SN_1' }]), RangeError);
  });

  it('encodes SAN DNS and IP names (v4 and v6) as @peculiar/x509 reads them; refuses bad names', () => {
    const ext = new x509.SubjectAlternativeNameExtension(new Uint8Array(subjectAltName({ dnsNames: ['Example.org'], ipAddresses: ['10.0.0.1', 'fe80::1'] })));
    assert.deepEqual(ext.names.items.map((n) => [n.type, n.value]), [['dns', 'example.org'], ['ip', '10.0.0.1'], ['ip', 'fe80::1']]);
    assert.throws(() => subjectAltName({ dnsNames: ['bad name'] }), RangeError);
    assert.throws(() => subjectAltName({ ipAddresses: ['::ffff:1.2.3.4'] }), RangeError);
    assert.throws(() => subjectAltName({ ipAddresses: ['999.1.1.1'] }), RangeError);
  });

  it('points at the public base URL without doubling slashes', () => {
    assert.deepEqual(issuerUrls('https://pki.example.org/', 'operational'), { crl: 'https://pki.example.org/pki/crl/operational.crl', ocsp: 'https://pki.example.org/ocsp', caIssuers: 'https://pki.example.org/pki/ca/operational.crt' });
  });
});
