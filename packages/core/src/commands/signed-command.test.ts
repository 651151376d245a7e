import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { describe, it } from 'node:test';
import { MedTrustError } from '../errors/medtrust-error.ts';
import { type CommandEnvelope, commandKeyId, MemoryNonceRegistry, signCommand, verifySignedCommand, type SignedCommand } from './signed-command.ts';

const platform = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signerOf = (k: typeof platform) => ({ alg: 'ES256' as const, keyId: commandKeyId(k.publicKey), sign: (d: Buffer) => sign('sha256', d, k.privateKey) });
const now = 1_800_000_000_000;

function envelope(over: Partial<CommandEnvelope> = {}): CommandEnvelope {
  return { v: 1, id: 'cmd_1', deviceId: 'dev_a', kind: 'infusion.change-rate', params: { dose: 360.5 }, nonce: randomBytes(16).toString('base64url'), issuedAtMs: now, expiresAtMs: now + 60_000, ...over };
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof MedTrustError);
    return e.code;
  }
  return 'ok';
}

describe('verifySignedCommand', () => {
  const verify = (s: SignedCommand, nonces = new MemoryNonceRegistry(), nowMs = now) => verifySignedCommand(s, { publicKey: platform.publicKey, deviceId: 'dev_a', nowMs, nonces });

  it('accepts a fresh command signed by the platform, with fractional doses intact', () => {
    const env = verify(signCommand(envelope(), signerOf(platform)));
    assert.deepEqual(env.params, { dose: 360.5 });
  });

  describe('when the command is not genuine or not fresh', () => {
    it('refuses a replay of the same nonce', () => {
      const nonces = new MemoryNonceRegistry();
      const s = signCommand(envelope(), signerOf(platform));
      verify(s, nonces);
      assert.equal(codeOf(() => verify(s, nonces)), 'COMMAND_REPLAYED');
    });

    it('refuses a forged, an altered and an alg-swapped command', () => {
      assert.equal(codeOf(() => verify(signCommand(envelope(), signerOf(attacker)))), 'COMMAND_SIGNATURE_INVALID');
      const s = signCommand(envelope(), signerOf(platform));
      const altered = Buffer.from(s.payload, 'base64url').toString().replace('360.5', '3605');
      assert.equal(codeOf(() => verify({ ...s, payload: Buffer.from(altered).toString('base64url') })), 'COMMAND_SIGNATURE_INVALID');
      assert.equal(codeOf(() => verify({ ...s, alg: 'EdDSA' })), 'COMMAND_SIGNATURE_INVALID');
    });

    it('refuses an expired command, one from the future, and one for another device', () => {
      assert.equal(codeOf(() => verify(signCommand(envelope({ issuedAtMs: now - 120_000, expiresAtMs: now - 60_000 }), signerOf(platform)))), 'COMMAND_EXPIRED');
      assert.equal(codeOf(() => verify(signCommand(envelope({ issuedAtMs: now + 600_000, expiresAtMs: now + 660_000 }), signerOf(platform)))), 'COMMAND_EXPIRED');
      assert.equal(codeOf(() => verify(signCommand(envelope({ deviceId: 'dev_b' }), signerOf(platform)))), 'COMMAND_WRONG_DEVICE');
    });

    it('does not let a refused command burn its nonce', () => {
      const nonces = new MemoryNonceRegistry();
      const env = envelope();
      assert.equal(codeOf(() => verify(signCommand(env, signerOf(attacker)), nonces)), 'COMMAND_SIGNATURE_INVALID');
      assert.equal(codeOf(() => verify(signCommand(env, signerOf(platform)), nonces)), 'ok');
    });

    it('refuses garbage', () => {
      assert.equal(codeOf(() => verify({} as SignedCommand)), 'COMMAND_MALFORMED');
      assert.equal(codeOf(() => verify({ payload: 'x', signature: 'y', alg: 'ES256', keyId: '' })), 'COMMAND_SIGNATURE_INVALID');
    });
  });
});
