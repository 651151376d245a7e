import { EventEmitter } from 'node:events';
import { createPublicKey, type KeyObject } from 'node:crypto';
import { assertWithinCarriedLimits, type CommandEnvelope, commandKeyId, isMedTrustError, type NonceRegistry, type SignedCommand, verifySignedCommand } from '@medtrust/core';
import mqtt, { type MqttClient } from 'mqtt';
import type { DeviceCredentials } from '../mqtt/device-agent.ts';
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
  /** `mqtts://host:port`. */
  readonly url: string;
  readonly credentials: DeviceCredentials;
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
 * The device's command side: a second MQTT connection (client id `{device id}-commands`, a
 * persistent session so that commands sent while it was away are delivered, and then refused if
 * stale) that verifies every command (signature with the pinned key, device, freshness, nonce),
 * re-checks the hard limits it carries, hands it to the handler, and reports each step.
 */
export class CommandAgent extends EventEmitter<{ result: [CommandResult]; connected: [] }> {
  readonly #o: CommandAgentOptions;
  readonly #key: KeyObject;
  readonly #nonces: NonceRegistry;
  #client: MqttClient | undefined;

  constructor(opts: CommandAgentOptions) {
    super();
    this.#o = opts;
    this.#key = typeof opts.publicKey === 'string' ? commandPublicKey(opts.publicKey) : opts.publicKey;
    this.#nonces = opts.nonces ?? new BoundedNonceRegistry();
  }

  get connected(): boolean {
    return this.#client?.connected === true;
  }

  /** Connects and subscribes; resolves once the subscription is granted. */
  async start(): Promise<void> {
    const c = this.#o.credentials;
    const client = await mqtt.connectAsync(this.#o.url, {
      clientId: `${c.deviceId}-commands`, cert: c.certPem, key: c.keyPem, ca: c.caPem, protocolVersion: 4, clean: false, reconnectPeriod: 1000, connectTimeout: 10_000,
    });
    this.#client = client;
    client.on('message', (_topic, payload) => void this.#onCommand(payload));
    client.on('connect', () => this.emit('connected'));
    client.on('error', () => undefined);
    const granted = await client.subscribeAsync(`devices/${c.deviceId}/${COMMANDS_SUFFIX}`, { qos: 1 });
    if (granted.some((g) => g.qos === 0x80)) throw new Error('the broker refused the command subscription');
    this.emit('connected');
  }

  async stop(): Promise<void> {
    await this.#client?.endAsync();
    this.#client = undefined;
  }

  async #onCommand(payload: Buffer): Promise<void> {
    const now = (this.#o.nowMs ?? Date.now)();
    let signed: SignedCommand;
    let env: CommandEnvelope;
    try {
      signed = JSON.parse(payload.toString('utf8')) as SignedCommand;
      env = verifySignedCommand(signed, { publicKey: this.#key, deviceId: this.#o.credentials.deviceId, nowMs: now, nonces: this.#nonces, ...(this.#o.maxClockSkewMs !== undefined ? { maxClockSkewMs: this.#o.maxClockSkewMs } : {}) });
      // IEC 62304 defence in depth: the device re-checks the hard limits itself.
      assertWithinCarriedLimits(env);
    } catch (e) {
      return this.#report(claimedId(payload), 'refused', isMedTrustError(e) ? e.code : 'COMMAND_MALFORMED');
    }
    await this.#report(env.id, 'accepted');
    try {
      await this.#o.handler(env);
    } catch (e) {
      return this.#report(env.id, 'failed', isMedTrustError(e) ? e.code : 'COMMAND_HANDLER_FAILED');
    }
    await this.#report(env.id, 'executed');
  }

  async #report(commandId: string | null, result: CommandResult['result'], code?: string): Promise<void> {
    const r: CommandResult = { v: 1, commandId, result, ...(code ? { code } : {}), at: (this.#o.nowMs ?? Date.now)() };
    this.emit('result', r);
    // QoS 1: mqtt.js keeps it until the PUBACK, which the platform sends after recording it.
    await this.#client?.publishAsync(`devices/${this.#o.credentials.deviceId}/${COMMAND_RESULTS_SUFFIX}`, JSON.stringify(r), { qos: 1 }).catch(() => undefined);
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
