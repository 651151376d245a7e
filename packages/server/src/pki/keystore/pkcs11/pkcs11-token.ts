import pkcs11js from 'pkcs11js';
import type { KeyPair, Mechanism, PKCS11, Template } from 'pkcs11js';
import type { KeyStoreConfig } from '../../../config/index.ts';
import { PkiError } from '../../errors.ts';
import { toPkiError } from './pkcs11-errors.ts';
import { Pkcs11Module, PROCESS_MODULES } from './pkcs11-module.ts';
import type { Pkcs11ModuleRegistry } from './pkcs11-module.ts';

/** The `kind: 'pkcs11'` branch of the key store settings. */
export type Pkcs11KeyStoreConfig = Extract<KeyStoreConfig, { kind: 'pkcs11' }>;

function slotId(slot: Buffer): bigint {
  // pkcs11js hands CK_SLOT_ID out as the native CK_ULONG bytes.
  return slot.length >= 8 ? slot.readBigUInt64LE(0) : BigInt(slot.readUInt32LE(0));
}

function selectSlot(mod: PKCS11, config: Pkcs11KeyStoreConfig): Buffer {
  const candidates = mod.C_GetSlotList(true).filter((slot) => {
    const info = mod.C_GetTokenInfo(slot);
    if ((info.flags & pkcs11js.CKF_TOKEN_INITIALIZED) === 0) return false;
    if (config.slot !== undefined && slotId(slot) !== BigInt(config.slot)) return false;
    // Token labels are blank-padded to 32 bytes (PKCS#11 v2.40 §3.2 CK_TOKEN_INFO).
    return config.tokenLabel === undefined || info.label.trimEnd() === config.tokenLabel;
  });
  const where = { tokenLabel: config.tokenLabel, slot: config.slot };
  const [first, ...rest] = candidates;
  if (first === undefined) throw new PkiError('CA_KEY_LOCKED', 'PKCS#11: no initialised token matches the configured slot / token label', { details: where });
  if (rest.length > 0) {
    throw new PkiError('KEYSTORE_FAILURE', 'PKCS#11: several tokens match; set MEDTRUST_PKCS11_TOKEN_LABEL or MEDTRUST_PKCS11_SLOT', { details: where });
  }
  return first;
}

/**
 * One logged-in PKCS#11 session on one token. pkcs11js calls are synchronous and JavaScript is
 * single-threaded, so each sign (C_SignInit + C_Sign) runs to completion before the next starts
 * and the shared session never holds two operations.
 */
export class Pkcs11Token {
  private session: Buffer | undefined;
  private readonly pending = new Set<Promise<unknown>>();

  private readonly mod: PKCS11;

  private constructor(private readonly module: Pkcs11Module, readonly slot: Buffer, readonly label: string, session: Buffer) {
    this.mod = module.mod;
    this.session = session;
  }

  /** Loads the library (or shares it), finds the token, opens a RW session and logs in as the user. */
  static open(config: Pkcs11KeyStoreConfig, registry: Pkcs11ModuleRegistry = PROCESS_MODULES): Pkcs11Token {
    const module = Pkcs11Module.acquire(config.library, registry);
    const mod = module.mod;
    let slot: Buffer | undefined;
    let session: Buffer | undefined;
    let loggedIn = false;
    try {
      slot = selectSlot(mod, config);
      session = mod.C_OpenSession(slot, pkcs11js.CKF_RW_SESSION | pkcs11js.CKF_SERIAL_SESSION);
      module.login(slot, session, config.pin);
      loggedIn = true;
      return new Pkcs11Token(module, slot, mod.C_GetTokenInfo(slot).label.trimEnd(), session);
    } catch (e) {
      try {
        module.release(slot, session, loggedIn);
      } catch {
        // The original failure is the one worth reporting.
      }
      throw toPkiError(e, 'opening the token');
    }
  }

  private live(): Buffer {
    if (this.session === undefined) throw new PkiError('KEYSTORE_FAILURE', 'PKCS#11: the key store is closed');
    return this.session;
  }

  /** Mechanisms the token offers (CKM_* values). */
  mechanisms(): Set<number> {
    try {
      this.live();
      return new Set(this.mod.C_GetMechanismList(this.slot));
    } catch (e) {
      throw toPkiError(e, 'C_GetMechanismList');
    }
  }

  /** Handles of all objects matching the template. */
  find(template: Template): Buffer[] {
    const session = this.live();
    try {
      this.mod.C_FindObjectsInit(session, template);
      try {
        const found: Buffer[] = [];
        for (let batch = this.mod.C_FindObjects(session, 16); batch.length > 0; batch = this.mod.C_FindObjects(session, 16)) found.push(...batch);
        return found;
      } finally {
        this.mod.C_FindObjectsFinal(session);
      }
    } catch (e) {
      throw toPkiError(e, 'C_FindObjects');
    }
  }

  /** Reads attribute values; throws (KEYSTORE_FAILURE) when one is sensitive or absent. */
  attributes(object: Buffer, types: readonly number[]): Map<number, Buffer> {
    try {
      const got = this.mod.C_GetAttributeValue(this.live(), object, types.map((type) => ({ type })));
      return new Map(got.map((a) => [a.type, a.value]));
    } catch (e) {
      throw toPkiError(e, 'C_GetAttributeValue');
    }
  }

  /** One-shot C_Sign with the key; `maxSignatureBytes` sizes the output buffer. */
  sign(mechanism: Mechanism, key: Buffer, data: Buffer, maxSignatureBytes: number): Buffer {
    const session = this.live();
    try {
      this.mod.C_SignInit(session, mechanism, key);
      return Buffer.from(this.mod.C_Sign(session, data, Buffer.alloc(maxSignatureBytes)));
    } catch (e) {
      throw toPkiError(e, 'C_Sign');
    }
  }

  /** Generates a key pair on its own session, off the event loop (RSA-3072 takes seconds). */
  async generateKeyPair(mechanism: Mechanism, publicTemplate: Template, privateTemplate: Template): Promise<KeyPair> {
    this.live();
    let session: Buffer | undefined;
    const work = (async () => {
      try {
        session = this.mod.C_OpenSession(this.slot, pkcs11js.CKF_RW_SESSION | pkcs11js.CKF_SERIAL_SESSION);
        return await this.mod.C_GenerateKeyPairAsync(session, mechanism, publicTemplate, privateTemplate);
      } catch (e) {
        throw toPkiError(e, 'C_GenerateKeyPair');
      } finally {
        if (session) this.mod.C_CloseSession(session);
      }
    })();
    this.pending.add(work);
    try {
      return await work;
    } finally {
      this.pending.delete(work);
    }
  }

  /** Waits for key generation in flight, then closes the session (logout and C_Finalize come with the process's last store). */
  async close(): Promise<void> {
    const session = this.session;
    if (session === undefined) return;
    // Refuse new work first, then let generations on their own sessions finish: C_Finalize
    // under a running worker thread would pull the library out from under it.
    this.session = undefined;
    await Promise.allSettled([...this.pending]);
    try {
      this.module.release(this.slot, session, true);
    } catch (e) {
      throw toPkiError(e, 'closing the token');
    }
  }
}
