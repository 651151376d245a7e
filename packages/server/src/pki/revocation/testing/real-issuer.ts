// Test helper: issues real certificates through the production CA hierarchy and IssuanceService
// (IDevID from a public key, LDevID from a PKCS#10 CSR, TLS server), with the keys kept for openssl.
import 'reflect-metadata';
import { generateKeyPairSync, KeyObject, randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { PkiTestStack } from '../../testing/pki-test-stack.ts';
import { CA_NAMES, type CaName } from '../../pki-contracts.ts';

export interface IssuedTestCert {
  readonly serial: string;
  readonly der: Buffer;
  readonly pem: string;
  readonly keyPem: string;
  readonly deviceId: string | null;
}

export interface RealIssuer {
  issue(opts: { ca: 'manufacturing' | 'operational' | 'infrastructure'; tenantId?: string }): Promise<IssuedTestCert>;
  /** PEM of each CA certificate, ending in a newline. */
  readonly caPems: Readonly<Record<CaName, string>>;
}

export async function createRealIssuer(stack: PkiTestStack): Promise<RealIssuer> {
  const caPems = {} as Record<CaName, string>;
  for (const n of CA_NAMES) caPems[n] = `${(await stack.cas.get(n)).certificatePem.trim()}\n`;
  return {
    caPems,
    issue: async ({ ca, tenantId = stack.operatorTenantId }) => {
      const keyPem = (k: KeyObject): string => k.export({ type: 'pkcs8', format: 'pem' }).toString();
      if (ca === 'infrastructure') {
        const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
        const c = await stack.issuer.issueTlsServer({ hostnames: [`h${randomBytes(6).toString('hex')}.test`], ipAddresses: [], publicKey });
        return { serial: c.serial, der: c.der, pem: c.pem, keyPem: keyPem(privateKey), deviceId: null };
      }
      const device = await stack.devices.create({ serial: randomBytes(8).toString('hex'), model: 'InfusionPump', hardwareRevision: '3', tenantId }, 'test');
      if (ca === 'manufacturing') {
        const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
        const c = await stack.issuer.issueIdevid({ device, publicKey, actor: 'test' });
        return { serial: c.serial, der: c.der, pem: c.pem, keyPem: keyPem(privateKey), deviceId: device.id };
      }
      const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
      const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
      const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: `CN=${device.id}`, keys, signingAlgorithm: alg });
      const c = await stack.issuer.issueLdevid({ deviceId: device.id, csrDer: Buffer.from(csr.rawData), actor: 'test' });
      return { serial: c.serial, der: c.der, pem: c.pem, keyPem: keyPem(KeyObject.from(keys.privateKey)), deviceId: device.id };
    },
  };
}
