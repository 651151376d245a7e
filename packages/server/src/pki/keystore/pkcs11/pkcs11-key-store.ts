import { randomBytes, verify } from 'node:crypto';
import pkcs11js from 'pkcs11js';
import type { Template } from 'pkcs11js';
import type { KeyAlgorithm, KeyHandle, KeyStore } from '../key-store.ts';
import { PkiError } from '../../errors.ts';
import { generationSpec, isEcKeyType, PUBLIC_KEY_ATTRIBUTES, publicKeyFromAttributes, readUlong, requiredMechanisms, signSpec } from './key-algorithms.ts';
import { formatKeyUri, parseKeyUri } from './pkcs11-uri.ts';
import { Pkcs11Token } from './pkcs11-token.ts';
import type { Pkcs11KeyStoreConfig } from './pkcs11-token.ts';

// Labels become CKA_LABEL and part of the ref; keep them to what every HSM and URI accepts.
const LABEL = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const PROBE = Buffer.from('medtrust pkcs11 key pairing probe');

function verifyAlgorithm(algorithm: KeyAlgorithm): string | null {
  switch (algorithm) {
    case 'ec-p256':
    case 'rsa-2048':
    case 'rsa-3072':
      return 'sha256';
    case 'ec-p384':
      return 'sha384';
    case 'ed25519':
      return null;
    default:
      return algorithm satisfies never;
  }
}

/**
 * KeyStore whose private keys are generated and kept on a PKCS#11 token (an HSM, or SoftHSM2 in
 * tests): sensitive, non-extractable token objects that sign through C_Sign.
 */
export class Pkcs11KeyStore implements KeyStore {
  readonly kind = 'pkcs11';
  private readonly generating = new Set<string>();

  constructor(private readonly token: Pkcs11Token) {}

  /** Opens the token named by the config and logs in; CA_KEY_LOCKED on a wrong PIN or absent token. */
  static open(config: Pkcs11KeyStoreConfig): Pkcs11KeyStore {
    return new Pkcs11KeyStore(Pkcs11Token.open(config));
  }

  async generate(label: string, algorithm: KeyAlgorithm): Promise<KeyHandle> {
    if (!LABEL.test(label)) throw new PkiError('KEYSTORE_FAILURE', 'Key label must be 1-64 letters, digits, ".", "_" or "-"', { details: { label } });
    const offered = this.token.mechanisms();
    const missing = requiredMechanisms(algorithm).filter((m) => !offered.has(m));
    if (missing.length > 0) {
      throw new PkiError('KEY_ALGORITHM_UNSUPPORTED', `PKCS#11: the token cannot generate or sign with ${algorithm}`, {
        details: { algorithm, missingMechanisms: missing.map((m) => `0x${m.toString(16)}`) },
      });
    }
    // The set closes the window between the existence check and C_GenerateKeyPair.
    if (this.generating.has(label) || this.token.find(this.template(pkcs11js.CKO_PRIVATE_KEY, label)).length > 0) {
      throw new PkiError('KEY_LABEL_TAKEN', `A key labelled "${label}" already exists on the token`, { details: { label } });
    }
    this.generating.add(label);
    try {
      const spec = generationSpec(algorithm);
      const id = randomBytes(16);
      const common: Template = [
        { type: pkcs11js.CKA_TOKEN, value: true },
        { type: pkcs11js.CKA_KEY_TYPE, value: spec.keyType },
        { type: pkcs11js.CKA_LABEL, value: label },
        { type: pkcs11js.CKA_ID, value: id },
      ];
      const isRsa = spec.keyType === pkcs11js.CKK_RSA;
      // Least privilege (PKCS#11 v2.40 §4.9): the private key may only sign, and can never leave
      // the token in clear or wrapped.
      const privateTemplate: Template = [
        ...common,
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
        { type: pkcs11js.CKA_PRIVATE, value: true },
        { type: pkcs11js.CKA_SENSITIVE, value: true },
        { type: pkcs11js.CKA_EXTRACTABLE, value: false },
        { type: pkcs11js.CKA_SIGN, value: true },
        ...(isRsa ? [{ type: pkcs11js.CKA_DECRYPT, value: false }, { type: pkcs11js.CKA_UNWRAP, value: false }] : [{ type: pkcs11js.CKA_DERIVE, value: false }]),
      ];
      const publicTemplate: Template = [
        ...common,
        ...spec.publicAttributes,
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY },
        { type: pkcs11js.CKA_PRIVATE, value: false },
        { type: pkcs11js.CKA_VERIFY, value: true },
        ...(isRsa ? [{ type: pkcs11js.CKA_ENCRYPT, value: false }, { type: pkcs11js.CKA_WRAP, value: false }] : []),
      ];
      const pair = await this.token.generateKeyPair(spec.mechanism, publicTemplate, privateTemplate);
      return this.handle(formatKeyUri(label, id), pair.privateKey, pair.publicKey);
    } finally {
      this.generating.delete(label);
    }
  }

  /** Accepts the ref `generate` returned, another RFC 7512 URI, or a bare label (unique on the token). */
  async load(ref: string): Promise<KeyHandle> {
    // A bare label is how callers that know only the label (as with the file store) find a key.
    const uri = LABEL.test(ref) ? { label: ref, id: undefined, token: undefined } : parseKeyUri(ref);
    if (uri === undefined) throw new PkiError('KEY_NOT_FOUND', 'Not a PKCS#11 key ref', { details: { ref } });
    if (uri.token !== undefined && uri.token !== this.token.label) {
      throw new PkiError('KEY_NOT_FOUND', 'The key ref names another token', { details: { ref, token: this.token.label } });
    }
    const one = (cls: number, what: string, id: Buffer | undefined): Buffer => {
      const found = this.token.find(this.template(cls, uri.label, id));
      const [first, ...rest] = found;
      if (first === undefined) throw new PkiError('KEY_NOT_FOUND', `No ${what} for this ref on the token`, { details: { ref } });
      if (rest.length > 0) throw new PkiError('KEYSTORE_FAILURE', `Several ${what}s match this ref; name the key by label and id`, { details: { ref } });
      return first;
    };
    const privateKey = one(pkcs11js.CKO_PRIVATE_KEY, 'private key', uri.id);
    // The public half is the one with the private key's CKA_ID, also when the ref had no id.
    const id = uri.id ?? this.token.attributes(privateKey, [pkcs11js.CKA_ID]).get(pkcs11js.CKA_ID);
    return this.handle(ref, privateKey, one(pkcs11js.CKO_PUBLIC_KEY, 'public key', id));
  }

  async close(): Promise<void> {
    await this.token.close();
  }

  private template(cls: number, label: string, id?: Buffer): Template {
    return [
      { type: pkcs11js.CKA_CLASS, value: cls },
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_LABEL, value: label },
      ...(id ? [{ type: pkcs11js.CKA_ID, value: id }] : []),
    ];
  }

  private keyTypeOf(object: Buffer): number {
    const value = this.token.attributes(object, [pkcs11js.CKA_KEY_TYPE]).get(pkcs11js.CKA_KEY_TYPE);
    if (value === undefined) throw new PkiError('KEYSTORE_FAILURE', 'PKCS#11: key object without CKA_KEY_TYPE');
    return readUlong(value);
  }

  private handle(ref: string, privateKey: Buffer, publicKeyObject: Buffer): KeyHandle {
    const keyType = this.keyTypeOf(publicKeyObject);
    if (keyType !== this.keyTypeOf(privateKey)) throw new PkiError('KEYSTORE_FAILURE', 'Private and public key objects differ in key type', { details: { ref } });
    const attrs = this.token.attributes(publicKeyObject, isEcKeyType(keyType) ? PUBLIC_KEY_ATTRIBUTES.ec : PUBLIC_KEY_ATTRIBUTES.rsa);
    let described;
    try {
      described = publicKeyFromAttributes(keyType, attrs);
    } catch (cause) {
      if (cause instanceof PkiError) throw cause;
      throw new PkiError('KEYSTORE_FAILURE', 'The public key on the token is malformed', { cause, details: { ref } });
    }
    const { algorithm, publicKey } = described;
    const spec = signSpec(algorithm);
    const token = this.token;
    const sign = (data: Buffer): Buffer => spec.output(token.sign(spec.mechanism, privateKey, spec.input(data), spec.maxSignatureBytes));
    // Objects matched by label and id could be mispaired by hand; a CA key whose certificate
    // cannot verify its signatures must fail here, not at the first relying party.
    if (!verify(verifyAlgorithm(algorithm), PROBE, publicKey, sign(PROBE))) {
      throw new PkiError('KEYSTORE_FAILURE', 'The private key on the token does not match its public key', { details: { ref } });
    }
    return Object.freeze({ ref, algorithm, publicKey, sign });
  }
}
