import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { CSR_ATTRS_DER } from './csr-attrs.ts';
import { base64Lines, pkcs7CertsOnly } from './pkcs7-certs-only.ts';

describe('pkcs7CertsOnly', () => {
  let dir: string;
  let certs: Buffer[];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'medtrust-p7-'));
    const sh = (args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    sh(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384', '-nodes', '-keyout', 'root.key', '-out', 'root.pem', '-subj', '/CN=Test Root', '-days', '2']);
    sh(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=leaf']);
    sh(['x509', '-req', '-in', 'leaf.csr', '-CA', 'root.pem', '-CAkey', 'root.key', '-CAcreateserial', '-out', 'leaf.pem', '-days', '1']);
    certs = ['leaf.pem', 'root.pem'].map((f) => Buffer.from(new X509Certificate(readFileSync(join(dir, f))).raw));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is read by `openssl pkcs7 -print_certs` with every certificate, in order', () => {
    writeFileSync(join(dir, 'out.p7b64'), base64Lines(pkcs7CertsOnly(certs)));
    const pem = execFileSync('openssl', ['base64', '-d', '-in', 'out.p7b64', '-out', 'out.p7'], { cwd: dir }) && execFileSync('openssl', ['pkcs7', '-inform', 'DER', '-in', 'out.p7', '-print_certs'], { cwd: dir }).toString();
    const found = [...pem.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)].map((m) => Buffer.from(new X509Certificate(m[0]).raw));
    assert.deepEqual(found, certs);
  });

  it('is byte-identical to what pkijs encodes for the same SignedData', () => {
    const p7 = pkcs7CertsOnly(certs);
    const sd = new pkijs.SignedData({
      version: 1,
      encapContentInfo: new pkijs.EncapsulatedContentInfo({ eContentType: '1.2.840.113549.1.7.1' }),
      certificates: certs.map((d) => pkijs.Certificate.fromBER(new Uint8Array(d))),
    });
    const ci = new pkijs.ContentInfo({ contentType: pkijs.ContentInfo.SIGNED_DATA, content: sd.toSchema(true) });
    assert.deepEqual(p7, Buffer.from(ci.toSchema().toBER()));
    const parsed = new pkijs.SignedData({ schema: pkijs.ContentInfo.fromBER(new Uint8Array(p7)).content });
    assert.equal(parsed.certificates?.length, 2);
    assert.equal(parsed.signerInfos.length, 0);
  });

  it('wraps base64 at 64 columns', () => {
    const lines = base64Lines(pkcs7CertsOnly(certs)).trimEnd().split('\n');
    assert.ok(lines.slice(0, -1).every((l) => l.length === 64));
  });
});

describe('CSR_ATTRS_DER', () => {
  it('is a DER SEQUENCE that asn1js reads back to the advertised OIDs', () => {
    const r = asn1js.fromBER(new Uint8Array(CSR_ATTRS_DER));
    assert.equal(r.offset, CSR_ATTRS_DER.length);
    const seq = r.result as asn1js.Sequence;
    const [alg, attr] = seq.valueBlock.value as [asn1js.ObjectIdentifier, asn1js.Sequence];
    assert.equal(alg.valueBlock.toString(), '1.2.840.10045.4.3.2');
    assert.equal((attr.valueBlock.value[0] as asn1js.ObjectIdentifier).valueBlock.toString(), '1.2.840.10045.2.1');
    const curve = (attr.valueBlock.value[1] as asn1js.Set).valueBlock.value[0] as asn1js.ObjectIdentifier;
    assert.equal(curve.valueBlock.toString(), '1.2.840.10045.3.1.7');
  });
});
