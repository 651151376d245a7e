import pkcs11js from 'pkcs11js';
import type { KeyPair, Mechanism, PKCS11, Template } from 'pkcs11js';
import type { KeyStoreConfig } from '../../../config/index.ts';
import { PkiError } from '../../errors.ts';

/** The `kind: 'pkcs11'` branch of the key store settings. */
export type Pkcs11KeyStoreConfig = Extract<KeyStoreConfig, { kind: 'pkcs11' }>;

// Return values that mean "the token is absent or will not let us in" rather than "the HSM is
// broken": the operator fixes them with the PIN or by plugging the token back in.
const LOCKED = new Set<number>([
  pkcs11js.CKR_PIN_INCORRECT, pkcs11js.CKR_PIN_INVALID, pkcs11js.CKR_PIN_LEN_RANGE, pkcs11js.CKR_PIN_EXPIRED,
  pkcs11js.CKR_PIN_LOCKED, pkcs11js.CKR_TOKEN_NOT_PRESENT, pkcs11js.CKR_TOKEN_NOT_RECOGNIZED,
  pkcs11js.CKR_DEVICE_REMOVED, pkcs11js.CKR_USER_NOT_LOGGED_IN, pkcs11js.CKR_USER_PIN_NOT_INITIALIZED,
  pkcs11js.CKR_SESSION_HANDLE_INVALID, pkcs11js.CKR_SESSION_CLOSED, pkcs11js.CKR_SLOT_ID_INVALID,
]);

const CKR_NAMES = new Map<number, string>(
  Object.entries(pkcs11js).filter(([k, v]) => k.startsWith('CKR_') && typeof v === 'number').map(([k, v]) => [v as number, k]),
);

/** The CK_RV of a pkcs11js failure (some wrapped methods throw plain Errors naming it). */
function ckrCode(e: unknown): number | undefined {
  if (e instanceof pkcs11js.Pkcs11Error) return e.code;
  const m = e instanceof Error ? /CKR_\w+:(\d+)/.exec(e.message) : null;
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

/** The CKR_* name of a pkcs11js failure, or undefined when it is not a Cryptoki return value. */
export function ckrOf(e: unknown): string | undefined {
  const code = ckrCode(e);
  return code === undefined ? undefined : (CKR_NAMES.get(code) ?? `CKR_0x${code.toString(16)}`);
}

/** Maps a pkcs11js failure to CA_KEY_LOCKED or KEYSTORE_FAILURE; the PIN never reaches it. */
export function toPkiError(e: unknown, what: string): PkiError {
  if (e instanceof PkiError) return e;
  const code = ckrCode(e);
  const ckr = ckrOf(e);
  const locked = code !== undefined && LOCKED.has(code);
  return new PkiError(locked ? 'CA_KEY_LOCKED' : 'KEYSTORE_FAILURE', `PKCS#11: ${what} failed${ckr ? ` (${ckr})` : ''}`, {
    cause: e,
    details: ckr ? { ckr } : undefined,
  });
}

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

  private constructor(private readonly mod: PKCS11, readonly slot: Buffer, readonly label: string, session: Buffer) {
    this.session = session;
  }

  /** Loads the library, finds the token, opens a RW session and logs in as the user. */
  static open(config: Pkcs11KeyStoreConfig): Pkcs11Token {
    const mod = new pkcs11js.PKCS11();
    try {
      mod.load(config.library);
    } catch (cause) {
      throw new PkiError('KEYSTORE_FAILURE', 'PKCS#11: cannot load the library', { cause, details: { library: config.library } });
    }
    try {
      // OS locking: key generation runs on libuv worker threads (C_GenerateKeyPairAsync).
      mod.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
    } catch (e) {
      mod.close();
      // Cryptoki allows one C_Initialize per process and library (PKCS#11 v2.40 §5.4).
      throw toPkiError(e, 'C_Initialize (is another key store on this library open in this process?)');
    }
    let session: Buffer | undefined;
    try {
      const slot = selectSlot(mod, config);
      session = mod.C_OpenSession(slot, pkcs11js.CKF_RW_SESSION | pkcs11js.CKF_SERIAL_SESSION);
      mod.C_Login(session, pkcs11js.CKU_USER, config.pin);
      return new Pkcs11Token(mod, slot, mod.C_GetTokenInfo(slot).label.trimEnd(), session);
    } catch (e) {
      try {
        if (session) mod.C_CloseSession(session);
        mod.C_Finalize();
        mod.close();
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

  /** Waits for key generation in flight, then logs out, closes the session and finalizes. */
  async close(): Promise<void> {
    const session = this.session;
    if (session === undefined) return;
    // Refuse new work first, then let generations on their own sessions finish: C_Finalize
    // under a running worker thread would pull the library out from under it.
    this.session = undefined;
    await Promise.allSettled([...this.pending]);
    try {
      this.mod.C_Logout(session);
      this.mod.C_CloseSession(session);
      this.mod.C_Finalize();
      this.mod.close();
    } catch (e) {
      throw toPkiError(e, 'closing the token');
    }
  }
}
