import pkcs11js from 'pkcs11js';
import { PkiError } from '../../errors.ts';

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
