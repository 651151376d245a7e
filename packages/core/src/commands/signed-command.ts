import { createHash, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { defineErrors, MedTrustError } from '../errors/medtrust-error.ts';
import { stableJson } from '../json/stable-json.ts';

/** Device-side verification codes; the SDK refuses the command and reports the code. */
export const commandErrors = defineErrors({
  COMMAND_MALFORMED: { status: 400, meaning: 'A signed command is not well-formed (encoding, fields or version).', fix: 'Send commands only through the platform API; check the device SDK version.' },
  COMMAND_SIGNATURE_INVALID: { status: 400, meaning: 'The command signature does not verify with the platform command key (forged or altered).', fix: 'Give the device the platform command-signing public key; investigate the sender.' },
  COMMAND_WRONG_DEVICE: { status: 400, meaning: 'The command names another device.', fix: 'Send the command to the device it was issued for.' },
  COMMAND_EXPIRED: { status: 400, meaning: 'The command expired before the device received it, or was issued in the future.', fix: 'Issue the command again; check the device clock.' },
  COMMAND_LIMIT_EXCEEDED: { status: 400, meaning: 'The device re-checked the command against the hard limits it carries and refused it.', fix: 'Issue a command inside the drug library hard limits.' },
  COMMAND_REPLAYED: { status: 400, meaning: 'The device has already seen this command nonce (a replay).', fix: 'Issue a new command; investigate who replayed it.' },
});
export type CommandErrorCode = keyof typeof commandErrors;
export class CommandError extends MedTrustError<CommandErrorCode> {}

/** What the platform signs for one device command. */
export interface CommandEnvelope {
  readonly v: 1;
  readonly id: string;
  readonly deviceId: string;
  readonly kind: string;
  readonly params: Readonly<Record<string, unknown>>;
  /** 128-bit random, base64url: the device refuses a nonce it has seen. */
  readonly nonce: string;
  readonly issuedAtMs: number;
  readonly expiresAtMs: number;
  /** Hard limits the device re-checks locally, per numeric parameter. */
  readonly limits?: Readonly<Record<string, { readonly hardMin?: number; readonly hardMax?: number }>>;
}

/** The wire form: payload is the stable JSON of the envelope, base64url. */
export interface SignedCommand {
  readonly payload: string;
  readonly signature: string;
  readonly alg: 'ES256' | 'EdDSA';
  readonly keyId: string;
}

/** Key id of a command-signing public key: SHA-256 of its SPKI DER, hex. */
export function commandKeyId(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex');
}

/** Signs an envelope with a signer whose `sign` is ECDSA-SHA256 (DER) or Ed25519. */
export function signCommand(envelope: CommandEnvelope, signer: { sign(data: Buffer): Buffer; readonly alg: 'ES256' | 'EdDSA'; readonly keyId: string }): SignedCommand {
  const payload = Buffer.from(stableJson(envelope));
  return { payload: payload.toString('base64url'), signature: signer.sign(payload).toString('base64url'), alg: signer.alg, keyId: signer.keyId };
}

/** Remembers nonces until their command expires; the SDK may persist it. */
export interface NonceRegistry {
  /** True when the nonce was new (and is now recorded); false for a replay. */
  remember(nonce: string, expiresAtMs: number, nowMs: number): boolean;
}

export class MemoryNonceRegistry implements NonceRegistry {
  readonly #seen = new Map<string, number>();
  remember(nonce: string, expiresAtMs: number, nowMs: number): boolean {
    if (this.#seen.size > 1000) for (const [n, exp] of this.#seen) if (exp < nowMs) this.#seen.delete(n);
    if (this.#seen.has(nonce)) return false;
    this.#seen.set(nonce, expiresAtMs);
    return true;
  }
}

/**
 * Verifies a signed command on the device: signature (with the pinned platform key), the
 * device it names, freshness (issued not after now + skew, not expired), then the nonce. The
 * nonce is recorded only for a command that passed every other check, so a forged command
 * cannot burn a genuine nonce.
 */
export function verifySignedCommand(signed: SignedCommand, opts: { publicKey: KeyObject; deviceId: string; nowMs: number; nonces: NonceRegistry; maxClockSkewMs?: number }): CommandEnvelope {
  if (typeof signed !== 'object' || signed === null || typeof signed.payload !== 'string' || typeof signed.signature !== 'string') throw new CommandError('COMMAND_MALFORMED', 'signed command must have payload and signature strings');
  const payload = Buffer.from(signed.payload, 'base64url');
  const signature = Buffer.from(signed.signature, 'base64url');
  const algOk = (signed.alg === 'ES256' && opts.publicKey.asymmetricKeyType === 'ec') || (signed.alg === 'EdDSA' && opts.publicKey.asymmetricKeyType === 'ed25519');
  // The algorithm comes from the pinned key, never from the message alone (no alg confusion).
  if (!algOk || !cryptoVerify(signed.alg === 'ES256' ? 'sha256' : null, payload, opts.publicKey, signature)) throw new CommandError('COMMAND_SIGNATURE_INVALID', 'command signature does not verify');
  let env: CommandEnvelope;
  try {
    env = JSON.parse(payload.toString('utf8')) as CommandEnvelope;
  } catch (cause) {
    throw new CommandError('COMMAND_MALFORMED', 'command payload is not JSON', { cause });
  }
  if (env.v !== 1 || typeof env.nonce !== 'string' || env.nonce.length < 16 || typeof env.issuedAtMs !== 'number' || typeof env.expiresAtMs !== 'number' || typeof env.kind !== 'string') throw new CommandError('COMMAND_MALFORMED', 'command envelope fields missing or of the wrong type');
  if (env.deviceId !== opts.deviceId) throw new CommandError('COMMAND_WRONG_DEVICE', 'command is for another device');
  const skew = opts.maxClockSkewMs ?? 30_000;
  if (env.issuedAtMs > opts.nowMs + skew || env.expiresAtMs <= opts.nowMs - skew || env.expiresAtMs <= env.issuedAtMs) throw new CommandError('COMMAND_EXPIRED', 'command is expired or not yet valid');
  if (!opts.nonces.remember(env.nonce, env.expiresAtMs + skew, opts.nowMs)) throw new CommandError('COMMAND_REPLAYED', 'command nonce seen before');
  return env;
}

/**
 * The device's own re-check (defence in depth): every numeric parameter named in `limits` must
 * lie inside its hard limits. Throws COMMAND_LIMIT_EXCEEDED.
 */
export function assertWithinCarriedLimits(env: CommandEnvelope): void {
  for (const [name, l] of Object.entries(env.limits ?? {})) {
    const v = env.params[name];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new CommandError('COMMAND_LIMIT_EXCEEDED', `parameter ${name} is missing or not a number`);
    if ((l.hardMin !== undefined && v < l.hardMin) || (l.hardMax !== undefined && v > l.hardMax)) throw new CommandError('COMMAND_LIMIT_EXCEEDED', `${name} ${v} outside hard limits`);
  }
}
