import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { isMedTrustError } from '@medtrust/core';
import type { KeyHandle } from '../keystore/key-store.ts';
import { CA_NAMES, type CaName, type CertificateAuthorities } from '../pki-contracts.ts';
import { certificateFacts } from './certificate-facts.ts';
import type { CertIdHash, OcspCertId } from './ocsp-request.ts';
import type { OcspSigningParty } from './ocsp-response.ts';
import { signatureAlgorithmDer } from './signature-algorithm.ts';

export interface KnownIssuer {
  readonly name: CaName;
  readonly signer: OcspSigningParty;
}

const RETRY_MS = 5000;
/** How often a complete directory re-reads the signers, so one renewed on any node is picked up. */
const SIGNER_RECHECK_MS = 600_000;
const sha = (alg: CertIdHash, b: Buffer): string => createHash(alg).update(b).digest('hex');

/**
 * Maps an OCSP CertID's (issuerNameHash, issuerKeyHash) to one of our CAs and its responder
 * identity. Loaded on first use; while the hierarchy is not initialised it retries every 5 s.
 * Once complete it re-reads the delegated signers every `signerRecheckMs` in the background
 * (answers keep the current signers meanwhile), so a renewal on any node reaches this one well
 * inside the 30-day renewal window.
 */
export class IssuerDirectory {
  readonly #cas: CertificateAuthorities;
  readonly #logger: Logger | undefined;
  readonly #recheckMs: number;
  #byHashes = new Map<string, KnownIssuer>();
  #loading: Promise<void> | undefined;
  #loadedAtMs = 0;
  #complete = false;

  constructor(opts: { cas: CertificateAuthorities; logger?: Logger; signerRecheckMs?: number }) {
    this.#cas = opts.cas;
    this.#logger = opts.logger;
    this.#recheckMs = opts.signerRecheckMs ?? SIGNER_RECHECK_MS;
  }

  /** The issuer a CertID names, or undefined when it is not one of ours. */
  async find(id: OcspCertId): Promise<KnownIssuer | undefined> {
    const sinceMs = Date.now() - this.#loadedAtMs;
    if (!this.#complete && sinceMs >= RETRY_MS) await this.#reload();
    else if (this.#complete && sinceMs >= this.#recheckMs && !this.#loading) void this.#reload().catch((e: unknown) => this.#logger?.error({ err: e }, 'OCSP: signer recheck failed'));
    return this.#byHashes.get(`${id.hash}:${id.issuerNameHash.toString('hex')}:${id.issuerKeyHash.toString('hex')}`);
  }

  #reload(): Promise<void> {
    return (this.#loading ??= this.#load().finally(() => (this.#loading = undefined)));
  }

  async #load(): Promise<void> {
    const previous = this.#byHashes;
    const map = new Map<string, KnownIssuer>();
    let complete = true;
    for (const name of CA_NAMES) {
      try {
        const ca = await this.#cas.get(name);
        const facts = certificateFacts(ca.certificateDer);
        const signer = await this.#signerFor(name, ca.certificateDer, ca.key);
        for (const h of ['sha1', 'sha256'] as const) map.set(`${h}:${sha(h, facts.subjectDer)}:${sha(h, facts.publicKeyBits)}`, { name, signer });
      } catch (e) {
        complete = false;
        // A recheck that fails (database briefly away) keeps what this CA had: no issuer goes dark.
        for (const [k, v] of previous) if (v.name === name) map.set(k, v);
        if (!isMedTrustError(e) || e.code !== 'CA_NOT_INITIALISED') this.#logger?.error({ err: e, ca: name }, 'OCSP: cannot load CA');
      }
    }
    this.#byHashes = map;
    this.#complete = complete;
    this.#loadedAtMs = Date.now();
  }

  async #signerFor(name: CaName, caDer: Buffer, caKey: KeyHandle): Promise<OcspSigningParty> {
    try {
      const s = await this.#cas.ocspSigner(name, { fresh: true });
      // RFC 6960 §4.2.2.2: a delegated signer is authorised only for the CA that issued its certificate.
      if (s.issuer !== name) throw new Error(`OCSP signer for ${name} was issued by ${s.issuer}`);
      return party(s.certificateDer, s.key, [s.certificateDer]);
    } catch (e) {
      // RFC 6960 §4.2.2.2: the CA itself may sign; used for the root, which issues only CA certificates.
      if (name !== 'root') this.#logger?.warn({ err: e, ca: name }, 'OCSP: no delegated signer, the CA key signs');
      return party(caDer, caKey, []);
    }
  }
}

function party(certDer: Buffer, key: KeyHandle, certsDer: readonly Buffer[]): OcspSigningParty {
  return {
    keyHash: createHash('sha1').update(certificateFacts(certDer).publicKeyBits).digest(),
    signatureAlgorithmDer: signatureAlgorithmDer(key.algorithm),
    certsDer,
    sign: (data) => key.sign(data),
  };
}
