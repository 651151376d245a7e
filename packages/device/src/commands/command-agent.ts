import { EventEmitter } from 'node:events';
import { createPublicKey, type KeyObject } from 'node:crypto';
import { assertWithinCarriedLimits, type CommandEnvelope, commandKeyId, isMedTrustError, type NonceRegistry, type SignedCommand, verifySignedCommand } from '@medtrust/core';
import type { DeviceAgent } from '../mqtt/device-agent.ts';
import { DeviceAgentError } from '../mqtt/errors.ts';
import { BoundedNonceRegistry } from './bounded-nonce-registry.ts';

/** What the device tells the platform on `devices/{id}/command-results` (docs/clinical-commands.md). */
export interface CommandResult {
  readonly v: 1;
  /** The command's id; for a command whose signature failed, the id it claimed (untrusted). */
  readonly commandId: string | null;
  readonly result: 'accepted' | 'executed' | 'refused' | 'failed';
  readonly code?: string;
  readonly at: number;
}

/** Runs a verified command on the device (the pump driver); throw to report it failed. */
export type CommandHandler = (command: CommandEnvelope) => Promise<void>;

export interface CommandAgentOptions {
  /** The device's one MQTT connection; it must have a persistent session (`persistentSession: true`). */
  readonly agent: DeviceAgent;
  /** The platform's command-signing public key, pinned at provisioning (PEM or KeyObject). */
  readonly publicKey: KeyObject | string;
  readonly handler: CommandHandler;
  /** Default: a bounded in-memory registry; pass one with a file to survive restarts. */
  readonly nonces?: NonceRegistry;
  readonly nowMs?: () => number;
  readonly maxClockSkewMs?: number;
}

export const COMMANDS_SUFFIX = 'commands';
export const COMMAND_RESULTS_SUFFIX = 'command-results';

/**
 * Loads the command-signing key from PEM and, when the fingerprint pinned at provisioning is
 * given, insists on it: a key fetched over the network (GET /pki/command-signing-key.pem) is only
 * as trustworthy as the pin it is compared with.
 */
export function commandPublicKey(pem: string, expectedKeyId?: string): KeyObject {
  const key = createPublicKey(pem);
  if (expectedKeyId !== undefined && commandKeyId(key) !== expectedKeyId.toLowerCase()) throw new Error('command-signing key does not match the pinned key id');
  return key;
}

/**
 * The device's command side, on the agent's connection: subscribes to `devices/{id}/commands`,
 * verifies every command (signature with the pinned key, device, freshness, nonce), re-checks the
 * hard limits it carries, hands it to the handler, and reports each step through the agent's
 * disk queue (a result produced while offline is delivered after the reconnect, in order). The
 * agent's persistent session keeps commands sent while the device was away; they are delivered
 * when it reconnects, and refused if they went stale meanwhile.
 */
export class CommandAgent extends EventEmitter<{ result: [CommandResult] }> {
  readonly #o: CommandAgentOptions;
  readonly #key: KeyObject;
  readonly #nonces: NonceRegistry;

  constructor(opts: CommandAgentOptions) {
    super();
    // Without a persistent session a command sent during an outage would be lost at the broker.
    if (!opts.agent.persistentSession) throw new DeviceAgentError('MQTT_SESSION_NOT_PERSISTENT', 'commands need a DeviceAgent with persistentSession: true');
    this.#o = opts;
    this.#key = typeof opts.publicKey === 'string' ? commandPublicKey(opts.publicKey) : opts.publicKey;
    this.#nonces = opts.nonces ?? new BoundedNonceRegistry();
  }

  /**
   * Takes commands from now on. Call before `agent.start()` so that commands waiting in the
   * session find the handler; resolves once the broker granted the subscription (which needs the
   * agent connected), rejects with MQTT_SUBSCRIPTION_REFUSED.
   */
  start(): Promise<void> {
    return this.#o.agent.subscribe(COMMANDS_SUFFIX, (payload) => void this.#onCommand(payload));
  }

  /** Takes no more commands: unsubscribes (the broker then keeps none for this device). */
  stop(): void {
    this.#o.agent.unsubscribe(COMMANDS_SUFFIX);
  }

  async #onCommand(payload: Buffer): Promise<void> {
    const now = (this.#o.nowMs ?? Date.now)();
    let signed: SignedCommand;
    let env: CommandEnvelope;
    try {
      signed = JSON.parse(payload.toString('utf8')) as SignedCommand;
      env = verifySignedCommand(signed, { publicKey: this.#key, deviceId: this.#o.agent.deviceId, nowMs: now, nonces: this.#nonces, ...(this.#o.maxClockSkewMs !== undefined ? { maxClockSkewMs: this.#o.maxClockSkewMs } : {}) });
      // IEC 62304 defence in depth: the device re-checks the hard limits itself.
      assertWithinCarriedLimits(env);
    } catch (e) {
      return this.#report(claimedId(payload), 'refused', isMedTrustError(e) ? e.code : 'COMMAND_MALFORMED');
    }
    this.#report(env.id, 'accepted');
    try {
      await this.#o.handler(env);
    } catch (e) {
      return this.#report(env.id, 'failed', isMedTrustError(e) ? e.code : 'COMMAND_HANDLER_FAILED');
    }
    this.#report(env.id, 'executed');
  }

  #report(commandId: string | null, result: CommandResult['result'], code?: string): void {
    const r: CommandResult = { v: 1, commandId, result, ...(code ? { code } : {}), at: (this.#o.nowMs ?? Date.now)() };
    this.emit('result', r);
    // On disk until the PUBACK, which the platform sends after recording it.
    this.#o.agent.publish(COMMAND_RESULTS_SUFFIX, r);
  }
}

/** The id a command says it has, read without trusting it (to correlate a refusal). */
function claimedId(payload: Buffer): string | null {
  try {
    const signed = JSON.parse(payload.toString('utf8')) as { payload?: unknown };
    if (typeof signed.payload !== 'string') return null;
    const id = (JSON.parse(Buffer.from(signed.payload, 'base64url').toString('utf8')) as { id?: unknown }).id;
    return typeof id === 'string' && id.length <= 64 ? id : null;
  } catch {
    return null;
  }
}
