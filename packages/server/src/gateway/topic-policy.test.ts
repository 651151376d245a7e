import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mayPublish, maySubscribe } from './topic-policy.ts';

describe('topic policy', () => {
  describe('when a device publishes', () => {
    it('allows its own telemetry and other data topics', () => {
      assert.equal(mayPublish('dev_a', 'devices/dev_a/telemetry'), true);
      assert.equal(mayPublish('dev_a', 'devices/dev_a/command-results'), true);
    });
    it('refuses other devices, prefixes, the platform-to-device subtrees and $SYS', () => {
      for (const topic of ['devices/dev_b/telemetry', 'devices/dev_ab/telemetry', 'devices/dev_a', 'devices/dev_a/', 'devices/dev_a/commands/x', 'devices/dev_a/updates', 'devices/dev_a/errors', '$SYS/x', 'devices/dev_a/+', 'other']) {
        assert.equal(mayPublish('dev_a', topic), false, topic);
      }
    });
  });
  describe('when a device subscribes', () => {
    it('allows its own commands, updates and errors', () => {
      for (const f of ['devices/dev_a/commands/#', 'devices/dev_a/commands', 'devices/dev_a/commands/+/x', 'devices/dev_a/updates/#', 'devices/dev_a/errors']) assert.equal(maySubscribe('dev_a', f), true, f);
    });
    it('refuses wildcards above its subtrees, other devices, its telemetry and shared subscriptions', () => {
      for (const f of ['#', 'devices/#', 'devices/+/commands/#', 'devices/dev_a/#', 'devices/dev_a/+', 'devices/dev_b/commands/#', 'devices/dev_a/telemetry', 'devices/dev_a/errors/#', '$share/g/devices/dev_a/commands/#', 'devices/dev_a/commands/#/x', 'devices/dev_a/commands/a#']) {
        assert.equal(maySubscribe('dev_a', f), false, f);
      }
    });
  });
});
