import 'reflect-metadata';
import { request } from 'node:https';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

/** How the device proves it may enrol (RFC 7030 §3.3.2): its IDevID over TLS, or a one-time secret. */
export type EnrolAuth =
  | { readonly kind: 'idevid'; readonly certPem: string; readonly keyPem: string }
  | { readonly kind: 'secret'; readonly username: string; readonly password: string };

export class EstClientError extends Error {
  constructor(readonly status: number, readonly code: string | undefined, message: string) {
    super(message);
  }
}

const EST_PREFIX = '/.well-known/est';

/** A fresh P-256 key and a PKCS#10 request naming the device (the LDevID subject is CN=<device id>). */
export async function newKeyAndCsr(deviceId: string): Promise<{ keyPem: string; csrDer: Buffer }> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: `CN=${deviceId}`, keys, signingAlgorithm: alg });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END PRIVATE KEY-----\n`;
  return { keyPem, csrDer: Buffer.from(csr.rawData) };
}

/** EST (RFC 7030) over node:https, trusting only `caPem` for the server. */
export class EstClient {
  readonly #baseUrl: string;
  readonly #caPem: string;

  constructor(opts: { baseUrl: string; caPem: string }) {
    this.#baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.#caPem = opts.caPem;
  }

  /** RFC 7030 §4.2.1: first LDevID. Returns the certificate (PEM). */
  simpleEnroll(csrDer: Buffer, auth: EnrolAuth): Promise<string> {
    return this.#enrol('simpleenroll', csrDer, auth);
  }

  /** RFC 7030 §4.2.2: renewal, authenticated by the current LDevID; same subject. */
  simpleReenroll(csrDer: Buffer, ldevid: { certPem: string; keyPem: string }): Promise<string> {
    return this.#enrol('simplereenroll', csrDer, { kind: 'idevid', ...ldevid });
  }

  async #enrol(op: string, csrDer: Buffer, auth: EnrolAuth): Promise<string> {
    const body = csrDer.toString('base64');
    const res = await this.#post(`${EST_PREFIX}/${op}`, body, auth);
    // RFC 7030 §4.2.3: base64 certs-only PKCS#7; the first certificate is ours.
    const certs = new x509.X509Certificates(Buffer.from(res.replace(/\s+/g, ''), 'base64'));
    const cert = certs[0];
    if (!cert) throw new EstClientError(502, undefined, 'EST response holds no certificate');
    return cert.toString('pem');
  }

  #post(path: string, body: string, auth: EnrolAuth): Promise<string> {
    const url = new URL(`${this.#baseUrl}${path}`);
    const headers: Record<string, string> = { 'content-type': 'application/pkcs10', 'content-transfer-encoding': 'base64' };
    if (auth.kind === 'secret') headers.authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
    return new Promise((resolve, reject) => {
      const req = request(url, {
        method: 'POST', headers, ca: this.#caPem,
        ...(auth.kind === 'idevid' ? { cert: auth.certPem, key: auth.keyPem } : {}),
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode === 200) return resolve(text);
          let code: string | undefined;
          try {
            code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
          } catch {
            code = undefined;
          }
          reject(new EstClientError(res.statusCode ?? 0, code, `EST ${path} answered ${res.statusCode}`));
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  }
}

/** Milliseconds until the certificate expires. */
export function msUntilExpiry(certPem: string, nowMs: number = Date.now()): number {
  return new x509.X509Certificate(certPem).notAfter.getTime() - nowMs;
}
