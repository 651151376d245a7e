import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { serverNames } from './https-listener.ts';

describe('serverNames', () => {
  it('names loopback, the public host, extra names and a concrete bind address, split into DNS and IP', () => {
    const n = serverNames('https://MedTrust.Example:8443', ['est.hospital.example', '10.1.2.3', 'fd00::5'], '192.168.0.10');
    assert.deepEqual(n.hostnames, ['localhost', 'medtrust.example', 'est.hospital.example']);
    assert.deepEqual(n.ipAddresses, ['127.0.0.1', '::1', '10.1.2.3', 'fd00::5', '192.168.0.10']);
  });
  it('does not name a wildcard bind address and drops duplicates', () => {
    const n = serverNames('http://127.0.0.1:8080', ['localhost'], '0.0.0.0');
    assert.deepEqual(n.hostnames, ['localhost']);
    assert.deepEqual(n.ipAddresses, ['127.0.0.1', '::1']);
  });
  it('reads a bracketed IPv6 public URL as an IP address', () => {
    assert.ok(serverNames('http://[2001:db8::1]:8080', [], '::').ipAddresses.includes('2001:db8::1'));
  });
});
