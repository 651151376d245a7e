import { assembleCertificate, TbsTemplate } from '@medtrust/core';
import type { KeyHandle } from '../keystore/key-store.ts';
import { signatureAlgorithmDer } from '../profiles/algorithms.ts';

/** A one-off certificate signed by `issuerKey` (CA and signer certificates; not the hot path). */
export function signCertificate(opts: {
  readonly issuerKey: KeyHandle;
  readonly issuerDer: Buffer;
  readonly serial: Buffer;
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
  readonly subjectDer: Buffer;
  readonly spkiDer: Buffer;
  readonly extensions: readonly Buffer[];
}): Buffer {
  const sigAlg = signatureAlgorithmDer(opts.issuerKey.algorithm);
  const template = new TbsTemplate({ signatureAlgorithmDer: sigAlg, issuerDer: opts.issuerDer, fixedExtensionsDer: opts.extensions });
  const tbs = template.build({ serial: opts.serial, notBeforeMs: opts.notBeforeMs, notAfterMs: opts.notAfterMs, subjectDer: opts.subjectDer, spkiDer: opts.spkiDer });
  return assembleCertificate(tbs, sigAlg, opts.issuerKey.sign(tbs));
}
