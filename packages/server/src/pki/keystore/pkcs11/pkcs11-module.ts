import { createHash, timingSafeEqual } from 'node:crypto';
import { realpathSync } from 'node:fs';
import pkcs11js from 'pkcs11js';
import type { PKCS11 } from 'pkcs11js';
import { PkiError } from '../../errors.ts';
import { toPkiError } from './pkcs11-errors.ts';

/** Loaded modules by real path; see PROCESS_MODULES. */
export type Pkcs11ModuleRegistry = Map<string, Pkcs11Module>;

/**
 * The one registry of the process. Module-level on purpose: Cryptoki state is process-wide
 * (PKCS#11 v2.40 §5.4: one C_Initialize per process; §5.6: login state is shared by every session
 * of the application), so two stores on one library must share one initialisation and one login.
 */
export const PROCESS_MODULES: Pkcs11ModuleRegistry = new Map();

interface SlotLogin {
  readonly pinDigest: Buffer;
  sessions: number;
}

/** One loaded, initialised PKCS#11 library, reference-counted across the stores that use it. */
export class Pkcs11Module {
  private refs = 0;
  private readonly logins = new Map<string, SlotLogin>();

  private constructor(readonly mod: PKCS11, private readonly registry: Pkcs11ModuleRegistry, private readonly key: string) {}

  /** Loads and initialises the library, or shares the instance this process already has. */
  static acquire(library: string, registry: Pkcs11ModuleRegistry = PROCESS_MODULES): Pkcs11Module {
    let key = library;
    try {
      key = realpathSync(library);
    } catch {
      // mod.load below reports the missing file with the path the operator configured.
    }
    let shared = registry.get(key);
    if (shared === undefined) {
      const mod = new pkcs11js.PKCS11();
      try {
        mod.load(library);
      } catch (cause) {
        throw new PkiError('KEYSTORE_FAILURE', 'PKCS#11: cannot load the library', { cause, details: { library } });
      }
      try {
        // OS locking: key generation runs on libuv worker threads (C_GenerateKeyPairAsync).
        mod.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
      } catch (e) {
        mod.close();
        throw toPkiError(e, 'C_Initialize');
      }
      shared = new Pkcs11Module(mod, registry, key);
      registry.set(key, shared);
    }
    shared.refs++;
    return shared;
  }

  /** Logs the user in on `slot`, or checks the PIN against the login this process already holds. */
  login(slot: Buffer, session: Buffer, pin: string): void {
    const slotKey = slot.toString('hex');
    const pinDigest = createHash('sha256').update(pin).digest();
    const existing = this.logins.get(slotKey);
    if (existing !== undefined) {
      // C_Login would answer CKR_USER_ALREADY_LOGGED_IN whatever the PIN, so the second store
      // must show it knows the same PIN before it gets the shared login.
      if (!timingSafeEqual(existing.pinDigest, pinDigest)) {
        throw new PkiError('CA_KEY_LOCKED', 'PKCS#11: PIN differs from the one this process logged in with', { details: { ckr: 'CKR_PIN_INCORRECT' } });
      }
      existing.sessions++;
      return;
    }
    this.mod.C_Login(session, pkcs11js.CKU_USER, pin);
    this.logins.set(slotKey, { pinDigest, sessions: 1 });
  }

  /** Ends a store's use: logs out with the slot's last session, finalizes with the last store. */
  release(slot: Buffer | undefined, session: Buffer | undefined, loggedIn: boolean): void {
    try {
      if (slot !== undefined && session !== undefined && loggedIn) {
        const slotKey = slot.toString('hex');
        const login = this.logins.get(slotKey);
        if (login !== undefined && --login.sessions === 0) {
          this.logins.delete(slotKey);
          this.mod.C_Logout(session);
        }
      }
      if (session !== undefined) this.mod.C_CloseSession(session);
    } finally {
      if (--this.refs === 0) {
        this.registry.delete(this.key);
        this.mod.C_Finalize();
        this.mod.close();
      }
    }
  }
}
