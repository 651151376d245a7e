import { generateKeyPairSync } from 'node:crypto';
import type { Server as HttpsServer } from 'node:https';
import { type Clock, systemClock } from '@medtrust/core';
import type { AddressInfo } from 'node:net';
import { isIP } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { CertificateAuthorities, IssuedCertificate, Issuer } from '../pki/index.ts';
import { buildHttpApp, type HttpFastPath, type RouteModule } from './build-http-app.ts';

export interface HttpsListenerOptions {
  readonly bindHost: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** The platform's public URL: its host goes into the server certificate. */
  readonly publicUrl: string;
  /** Extra DNS names and IP addresses for the server certificate (MEDTRUST_TLS_HOSTNAMES). */
  readonly tlsHostnames: readonly string[];
  readonly issuer: Issuer;
  readonly cas: CertificateAuthorities;
  readonly logger: Logger;
  readonly metrics: Registry;
  readonly version: string;
  readonly ready: () => Promise<boolean>;
  /** Device-facing routes (EST, the device HTTPS API). */
  readonly routes: readonly RouteModule[];
  /** Hot paths answered before Fastify (`buildHttpApp`). */
  readonly fastPaths?: readonly HttpFastPath[];
  readonly clock?: Clock;
  /** How often to check whether the server certificate is due for renewal. */
  readonly renewCheckMs?: number;
}

/** The running :8443 listener. */
export interface HttpsListener {
  readonly app: FastifyInstance;
  readonly url: string;
  readonly port: number;
  /** The server certificate in use, then its chain up to the root (PEM). */
  readonly serverCertificate: IssuedCertificate;
  /** Re-issues the server certificate (fresh key) once two thirds of its validity have passed; true if it did. */
  renewIfDue(): Promise<boolean>;
  close(): Promise<void>;
}

const TWELVE_HOURS_MS = 12 * 3_600_000;

/** The names the server certificate must carry so that clients verify it by any usual address. */
export function serverNames(publicUrl: string, tlsHostnames: readonly string[], bindHost: string): { hostnames: string[]; ipAddresses: string[] } {
  const all = ['localhost', '127.0.0.1', '::1', new URL(publicUrl).hostname.replace(/^\[|\]$/g, ''), ...tlsHostnames];
  // A concrete bind address is reachable by that address too; wildcards name nothing.
  if (bindHost !== '0.0.0.0' && bindHost !== '::') all.push(bindHost);
  const hostnames = [...new Set(all.filter((h) => h !== '' && isIP(h) === 0).map((h) => h.toLowerCase()))];
  const ipAddresses = [...new Set(all.filter((h) => isIP(h) !== 0))];
  return { hostnames, ipAddresses };
}

/**
 * Starts the device-facing HTTPS server (:8443). Its key lives only in memory: a fresh P-256
 * key and certificate from the infrastructure issuer on every start (and again when two thirds of
 * the certificate's validity have passed), so no TLS key is on disk.
 * Client certificates are requested but not required at the TLS layer; routes check them in
 * the application (RFC 7030 §3.3.2), because one port serves both certificate and secret auth.
 */
export async function startHttpsListener(opts: HttpsListenerOptions): Promise<HttpsListener> {
  const clock = opts.clock ?? systemClock;
  const names = serverNames(opts.publicUrl, opts.tlsHostnames, opts.bindHost);
  // The CAs whose certificates we accept from clients; sent in the CertificateRequest so that
  // clients with several identities pick the right one.
  const clientCas = await Promise.all((['manufacturing', 'operational'] as const).map(async (n) => (await opts.cas.get(n)).certificatePem));
  const issue = async (): Promise<{ key: string; cert: IssuedCertificate }> => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const cert = await opts.issuer.issueTlsServer({ ...names, publicKey });
    return { key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, cert };
  };
  let current = await issue();
  const app = await buildHttpApp({
    logger: opts.logger, metrics: opts.metrics, version: opts.version, ready: opts.ready, routes: opts.routes, ...(opts.fastPaths ? { fastPaths: opts.fastPaths } : {}),
    https: { key: current.key, cert: current.cert.chainPem, ca: clientCas, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2' },
  });
  await app.listen({ host: opts.bindHost, port: opts.port });
  const port = (app.server.address() as AddressInfo).port;
  const host = isIP(opts.bindHost) === 6 ? `[${opts.bindHost}]` : opts.bindHost;

  const renewIfDue = async (): Promise<boolean> => {
    const { notBefore, notAfter } = current.cert;
    if (clock.nowMs() < notBefore + ((notAfter - notBefore) * 2) / 3) return false;
    const next = await issue();
    // New handshakes get the new certificate; open connections keep theirs until they close.
    (app.server as unknown as HttpsServer).setSecureContext({ key: next.key, cert: next.cert.chainPem, ca: clientCas, minVersion: 'TLSv1.2' });
    current = next;
    opts.logger.info({ serial: next.cert.serial, notAfter: next.cert.notAfter }, 'HTTPS server certificate renewed');
    return true;
  };
  const timer = setInterval(() => {
    renewIfDue().catch((err: unknown) => opts.logger.error({ err }, 'HTTPS server certificate renewal failed; retrying later'));
  }, opts.renewCheckMs ?? TWELVE_HOURS_MS);
  timer.unref();

  return {
    app, port, url: `https://${host}:${port}`,
    get serverCertificate() {
      return current.cert;
    },
    renewIfDue,
    close: async () => {
      clearInterval(timer);
      await app.close();
    },
  };
}
