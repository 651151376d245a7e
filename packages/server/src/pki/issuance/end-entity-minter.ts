import { createHash } from 'node:crypto';
import { assembleCertificate, TbsTemplate, toPem } from '@medtrust/core';
import type { LoadedCa } from '../pki-contracts.ts';
import { signatureAlgorithmDer, subjectPublicKeyOf } from '../profiles/algorithms.ts';
import { endEntityExtensions, type EndEntityProfile, type IssuerUrls, newSerial } from '../profiles/certificate-profiles.ts';
import { type AltNames, keyIdentifier, subjectAltName, subjectKeyIdentifier } from '../profiles/extensions.ts';
import type { EncodedName } from '../profiles/names.ts';

export interface MintRequest {
  readonly subject: EncodedName;
  readonly spkiDer: Buffer;
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
  readonly altNames?: AltNames;
}

/** A signed certificate and the facts its `certificate` row needs. */
export interface MintedCertificate {
  readonly serialHex: string;
  readonly der: Buffer;
  readonly spkiSha256: Buffer;
  readonly subjectText: string;
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
}

/**
 * Signs end-entity certificates of one profile for one CA from a precomputed TBS template:
 * per certificate only the serial, validity, subject, key, SKI and SAN are encoded.
 */
export class EndEntityMinter {
  readonly ca: LoadedCa;
  readonly #template: TbsTemplate;
  readonly #sigAlg: Buffer;
  readonly #chainPem: string;

  constructor(opts: { ca: LoadedCa; profile: EndEntityProfile; urls: IssuerUrls; rsaKey?: boolean }) {
    this.ca = opts.ca;
    this.#sigAlg = signatureAlgorithmDer(opts.ca.key.algorithm);
    this.#template = new TbsTemplate({ signatureAlgorithmDer: this.#sigAlg, issuerDer: opts.ca.subjectDer, fixedExtensionsDer: endEntityExtensions(opts.profile, opts.ca.keyId, opts.urls, { rsaKey: opts.rsaKey }) });
    this.#chainPem = opts.ca.chainDer.map((d) => toPem('CERTIFICATE', d)).join('');
  }

  /** PEM of the CA chain (issuing CA first, root last) to append after the issued certificate. */
  get chainPem(): string {
    return this.#chainPem;
  }

  mint(req: MintRequest): MintedCertificate {
    const serial = newSerial();
    const extensions = [subjectKeyIdentifier(keyIdentifier(subjectPublicKeyOf(req.spkiDer)))];
    if (req.altNames) extensions.push(subjectAltName(req.altNames));
    const tbs = this.#template.build({ serial, notBeforeMs: req.notBeforeMs, notAfterMs: req.notAfterMs, subjectDer: req.subject.der, spkiDer: req.spkiDer, extensionsDer: extensions });
    const der = assembleCertificate(tbs, this.#sigAlg, this.ca.key.sign(tbs));
    return {
      serialHex: serial.toString('hex'), der, spkiSha256: createHash('sha256').update(req.spkiDer).digest(),
      subjectText: req.subject.text, notBeforeMs: req.notBeforeMs, notAfterMs: req.notAfterMs,
    };
  }
}
