// Test support: checks our certificates with parsers and tools we did not write (@peculiar/x509,
// pkijs/asn1js, the OpenSSL CLI). Imported by tests and the bench only.
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { webcrypto } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { toPem } from '@medtrust/core';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);
pkijs.setEngine('node', new pkijs.CryptoEngine({ name: 'node', crypto: webcrypto as unknown as Crypto }));

/**
 * Parses `der` with @peculiar/x509 and pkijs, checks that asn1js re-encodes it to the same bytes
 * (so every length and value is in DER's one canonical form), and verifies its signature with
 * both libraries against `issuerDer` (itself when self-signed). Returns the x509 view.
 */
export async function checkCertificate(der: Buffer, issuerDer: Buffer = der): Promise<x509.X509Certificate> {
  const asn = asn1js.fromBER(new Uint8Array(der));
  assert.equal(asn.offset, der.length, 'asn1js consumed every byte');
  assert.ok(!asn.result.error, `asn1js: ${asn.result.error}`);
  assert.deepEqual(Buffer.from(asn.result.toBER(false)), der, 'asn1js re-encoding equals our DER');
  const pk = pkijs.Certificate.fromBER(new Uint8Array(der));
  const pkIssuer = pkijs.Certificate.fromBER(new Uint8Array(issuerDer));
  assert.ok(await pk.verify(pkIssuer), 'pkijs verifies the signature');
  const cert = new x509.X509Certificate(new Uint8Array(der));
  const issuer = new x509.X509Certificate(new Uint8Array(issuerDer));
  assert.ok(await cert.verify({ publicKey: issuer.publicKey, signatureOnly: true }), '@peculiar/x509 verifies the signature');
  assert.equal(cert.issuer, issuer.subject);
  return cert;
}

/** `openssl verify -CAfile root -untrusted chain [-purpose p] leaf`; returns [exit code, output]. */
export function opensslVerify(rootDer: Buffer, untrustedDer: readonly Buffer[], leafDer: Buffer, purpose?: string): [number, string] {
  const dir = mkdtempSync(join(tmpdir(), 'medtrust-verify-'));
  try {
    writeFileSync(join(dir, 'root.pem'), toPem('CERTIFICATE', rootDer));
    writeFileSync(join(dir, 'chain.pem'), untrustedDer.map((d) => toPem('CERTIFICATE', d)).join(''));
    writeFileSync(join(dir, 'leaf.pem'), toPem('CERTIFICATE', leafDer));
    const args = ['verify', '-x509_strict', '-CAfile', join(dir, 'root.pem')];
    if (untrustedDer.length > 0) args.push('-untrusted', join(dir, 'chain.pem'));
    if (purpose) args.push('-purpose', purpose);
    args.push(join(dir, 'leaf.pem'));
    const r = spawnSync('openssl', args, { encoding: 'utf8' });
    return [r.status ?? -1, `${r.stdout}${r.stderr}`];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `openssl x509 -noout -text` of a DER certificate. */
export function opensslText(der: Buffer): string {
  return execFileSync('openssl', ['x509', '-inform', 'DER', '-noout', '-text', '-nameopt', 'RFC2253'], { input: der, encoding: 'utf8' });
}
