// Test helper: a real CA hierarchy (root P-384; manufacturing, operational, infrastructure P-256;
// one delegated OCSP signer per issuing CA) built with @peculiar/x509 and node:crypto keys, stored
// in the real `ca` / `certificate` tables. Used until and beside the production CaHierarchy.
import 'reflect-metadata';
import { createHash, KeyObject, randomBytes, sign as cryptoSign, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { Kysely } from 'kysely';
import type { Database } from '../../../db/index.ts';
import type { KeyHandle } from '../../keystore/key-store.ts';
import { CA_NAMES, type CaName, type CertificateAuthorities, type LoadedCa, type OcspSignerIdentity } from '../../pki-contracts.ts';
import { certificateFacts } from '../../ocsp/certificate-facts.ts';

type IssuingCa = Exclude<CaName, 'root'>;
const ISSUING: readonly IssuingCa[] = ['manufacturing', 'operational', 'infrastructure'];
const DAY_MS = 86_400_000;

interface Party {
  readonly cert: x509.X509Certificate;
  readonly keys: webcrypto.CryptoKeyPair;
  readonly handle: KeyHandle;
}

export interface IssuedTestCert {
  readonly serial: string;
  readonly der: Buffer;
  readonly pem: string;
  readonly keyPem: string;
}

export interface TestPki {
  readonly cas: CertificateAuthorities;
  issue(opts: { ca: IssuingCa; deviceId?: string | null; tenantId?: string | null; cn?: string }): Promise<IssuedTestCert>;
  caPem(name: CaName): string;
  signerPem(issuer: IssuingCa): { certPem: string; keyPem: string };
}

function algOf(curve: 'P-256' | 'P-384'): { gen: webcrypto.EcKeyGenParams; sig: webcrypto.EcdsaParams } {
  return { gen: { name: 'ECDSA', namedCurve: curve }, sig: { name: 'ECDSA', hash: curve === 'P-384' ? 'SHA-384' : 'SHA-256' } };
}

function handleOf(keys: webcrypto.CryptoKeyPair, curve: 'P-256' | 'P-384', ref: string): KeyHandle {
  const priv = KeyObject.from(keys.privateKey);
  const hash = curve === 'P-384' ? 'sha384' : 'sha256';
  return {
    ref,
    algorithm: curve === 'P-384' ? 'ec-p384' : 'ec-p256',
    publicKey: KeyObject.from(keys.publicKey),
    sign: (data) => cryptoSign(hash, data, { key: priv, dsaEncoding: 'der' }),
  };
}

function keyPemOf(keys: webcrypto.CryptoKeyPair): string {
  return KeyObject.from(keys.privateKey).export({ type: 'pkcs8', format: 'pem' }).toString();
}

function serialHex(): string {
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f | 0x10;
  return b.toString('hex');
}

/** Builds the hierarchy and stores its `ca` rows and CA/signer `certificate` rows. */
export async function createTestPki(db: Kysely<Database>, nowMs: number = Date.now()): Promise<TestPki> {
  const notBefore = new Date(nowMs - DAY_MS);
  const notAfter = new Date(nowMs + 3650 * DAY_MS);
  const rootAlg = algOf('P-384');
  const rootKeys = await webcrypto.subtle.generateKey(rootAlg.gen, true, ['sign', 'verify']);
  const rootCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialHex(), name: 'CN=MedTrust Test Root CA, O=MedTrust', notBefore, notAfter, keys: rootKeys, signingAlgorithm: rootAlg.sig,
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true), await x509.SubjectKeyIdentifierExtension.create(rootKeys.publicKey)],
  });
  const parties = new Map<string, Party>([['root', { cert: rootCert, keys: rootKeys, handle: handleOf(rootKeys, 'P-384', 'test:root') }]]);
  const signers = new Map<IssuingCa, Party>();

  async function issueUnder(issuer: Party, issuerCurve: 'P-256' | 'P-384', subject: string, ext: x509.Extension[], serial = serialHex()): Promise<{ cert: x509.X509Certificate; keys: webcrypto.CryptoKeyPair }> {
    const a = algOf('P-256');
    const keys = await webcrypto.subtle.generateKey(a.gen, true, ['sign', 'verify']);
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial, subject, issuer: issuer.cert.subject, notBefore, notAfter, publicKey: keys.publicKey, signingKey: issuer.keys.privateKey,
      signingAlgorithm: algOf(issuerCurve).sig,
      extensions: [...ext, await x509.SubjectKeyIdentifierExtension.create(keys.publicKey), await x509.AuthorityKeyIdentifierExtension.create(issuer.cert)],
    });
    return { cert, keys };
  }

  const insertCert = async (cert: x509.X509Certificate, caName: CaName, profile: 'ca' | 'ocsp-signer' | 'ldevid', deviceId: string | null, tenantId: string | null): Promise<string> => {
    const der = Buffer.from(cert.rawData);
    const facts = certificateFacts(der);
    await db.insertInto('certificate').values({
      serial: facts.serial, ca_name: caName, profile, device_id: deviceId, tenant_id: tenantId, subject: cert.subject,
      not_before: cert.notBefore.getTime(), not_after: cert.notAfter.getTime(), spki_sha256: createHash('sha256').update(Buffer.from(cert.publicKey.rawData)).digest(),
      der, status: 'valid', revoked_at: null, revocation_reason: null, superseded_by: null, created_at: nowMs,
    }).execute();
    return facts.serial;
  };

  const insertCa = async (name: CaName, cert: x509.X509Certificate, issuerName: CaName | null): Promise<void> => {
    const der = Buffer.from(cert.rawData);
    const f = certificateFacts(der);
    await db.insertInto('ca').values({
      name, key_ref: `test:${name}`, certificate_der: der, subject: cert.subject, issuer_name: issuerName,
      key_id: createHash('sha1').update(f.publicKeyBits).digest(), name_sha1: createHash('sha1').update(f.subjectDer).digest(),
      not_after: cert.notAfter.getTime(), created_at: nowMs, crl_number: 0,
    }).execute();
  };

  await insertCa('root', rootCert, null);
  const root = parties.get('root')!;
  for (const name of ISSUING) {
    const { cert, keys } = await issueUnder(root, 'P-384', `CN=MedTrust Test ${name} CA, O=MedTrust`, [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)]);
    const party = { cert, keys, handle: handleOf(keys, 'P-256', `test:${name}`) };
    parties.set(name, party);
    await insertCa(name, cert, 'root');
    await insertCert(cert, 'root', 'ca', null, null);
    const s = await issueUnder(party, 'P-256', `CN=MedTrust Test ${name} OCSP signer, O=MedTrust`, [
      new x509.ExtendedKeyUsageExtension(['1.3.6.1.5.5.7.3.9'], false),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      // RFC 6960 §4.2.2.2.1 id-pkix-ocsp-nocheck: clients need not check the signer's own status.
      new x509.Extension('1.3.6.1.5.5.7.48.1.5', false, new Uint8Array([0x05, 0x00])),
    ]);
    signers.set(name, { cert: s.cert, keys: s.keys, handle: handleOf(s.keys, 'P-256', `test:ocsp-${name}`) });
    await insertCert(s.cert, name, 'ocsp-signer', null, null);
  }

  const loaded = (name: CaName): LoadedCa => {
    const p = parties.get(name)!;
    const der = Buffer.from(p.cert.rawData);
    const f = certificateFacts(der);
    const chain = name === 'root' ? [der] : [der, Buffer.from(rootCert.rawData)];
    return {
      name, certificateDer: der, certificatePem: `${p.cert.toString('pem').trim()}\n`, key: p.handle, subjectDer: f.subjectDer,
      keyId: createHash('sha1').update(f.publicKeyBits).digest(), nameSha1: createHash('sha1').update(f.subjectDer).digest(), chainDer: chain,
    };
  };

  const cas: CertificateAuthorities = {
    get: async (name) => loaded(name),
    ocspSigner: async (issuer): Promise<OcspSignerIdentity> => {
      const s = issuer === 'root' ? undefined : signers.get(issuer);
      if (!s) throw new Error(`no OCSP signer for ${issuer}`);
      return { certificateDer: Buffer.from(s.cert.rawData), key: s.handle, issuer };
    },
    findIssuer: async (certDer) => {
      const f = certificateFacts(certDer);
      for (const n of CA_NAMES) if (loaded(n).subjectDer.equals(f.issuerDer)) return loaded(n);
      return undefined;
    },
  };

  return {
    cas,
    issue: async ({ ca, deviceId = null, tenantId = null, cn }) => {
      const party = parties.get(ca)!;
      const { cert, keys } = await issueUnder(party, 'P-256', `CN=${cn ?? `device-${serialHex().slice(0, 8)}`}`, [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true)]);
      const serial = await insertCert(cert, ca, 'ldevid', deviceId, tenantId);
      return { serial, der: Buffer.from(cert.rawData), pem: `${cert.toString('pem').trim()}\n`, keyPem: keyPemOf(keys) };
    },
    caPem: (name) => `${parties.get(name)!.cert.toString('pem').trim()}\n`,
    signerPem: (issuer) => {
      const s = signers.get(issuer)!;
      return { certPem: `${s.cert.toString('pem').trim()}\n`, keyPem: keyPemOf(s.keys) };
    },
  };
}
