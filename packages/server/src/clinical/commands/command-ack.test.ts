import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nextCommandStatus, parseCommandAck } from './command-ack.ts';

const b = (o: unknown): Buffer => Buffer.from(JSON.stringify(o));

describe('parseCommandAck', () => {
  it('reads a valid report', () => {
    assert.deepEqual(parseCommandAck(b({ v: 1, commandId: 'cmd_1', result: 'refused', code: 'COMMAND_EXPIRED', at: 1 })), { commandId: 'cmd_1', result: 'refused', code: 'COMMAND_EXPIRED' });
    assert.deepEqual(parseCommandAck(b({ v: 1, commandId: null, result: 'refused', code: 'COMMAND_MALFORMED' })), { commandId: null, result: 'refused', code: 'COMMAND_MALFORMED' });
  });
  it('refuses malformed reports', () => {
    for (const bad of [Buffer.from('not json'), b(null), b([]), b({ v: 2, commandId: 'c', result: 'accepted' }), b({ v: 1, commandId: 'c', result: 'done' }), b({ v: 1, commandId: 'c d', result: 'accepted' }),
      b({ v: 1, commandId: 'c', result: 'refused' }), b({ v: 1, commandId: 'c', result: 'failed', code: 'lower' }), b({ v: 1, commandId: 5, result: 'accepted' }), Buffer.alloc(5000, 32)]) {
      assert.equal(parseCommandAck(bad), undefined, bad.toString().slice(0, 60));
    }
  });
});

describe('nextCommandStatus', () => {
  it('follows issued -> acknowledged -> executed | failed', () => {
    assert.equal(nextCommandStatus('issued', { commandId: 'c', result: 'accepted' }), 'acknowledged');
    assert.equal(nextCommandStatus('acknowledged', { commandId: 'c', result: 'executed' }), 'executed');
    assert.equal(nextCommandStatus('acknowledged', { commandId: 'c', result: 'failed', code: 'X' }), 'failed');
    assert.equal(nextCommandStatus('executed', { commandId: 'c', result: 'accepted' }), undefined);
  });
  it('marks a verified refusal rejected, but never lets an unauthenticated or replay report change a command', () => {
    assert.equal(nextCommandStatus('issued', { commandId: 'c', result: 'refused', code: 'COMMAND_LIMIT_EXCEEDED' }), 'rejected');
    for (const code of ['COMMAND_SIGNATURE_INVALID', 'COMMAND_MALFORMED', 'COMMAND_REPLAYED']) assert.equal(nextCommandStatus('issued', { commandId: 'c', result: 'refused', code }), undefined, code);
    assert.equal(nextCommandStatus('executed', { commandId: 'c', result: 'refused', code: 'COMMAND_EXPIRED' }), undefined);
  });
});
