import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { conditionProblems, evaluateCondition } from './condition.ts';
import type { Condition } from './policy-document.ts';

const pumpOld: Condition = { all: [{ fact: 'device.model', eq: 'PumpX' }, { fact: 'device.firmwareVersion', semverLt: '2.4.0' }] };

describe('condition language', () => {
  describe('when evaluating', () => {
    it('matches all/any/not over facts and traces every test', () => {
      const r = evaluateCondition(pumpOld, { 'device.model': 'PumpX', 'device.firmwareVersion': '2.3.9' });
      assert.equal(r.matched, true);
      assert.equal(r.trace.length, 2);
      assert.equal(evaluateCondition(pumpOld, { 'device.model': 'PumpX', 'device.firmwareVersion': '2.4.0' }).matched, false);
      assert.equal(evaluateCondition(pumpOld, { 'device.model': 'MonitorY', 'device.firmwareVersion': '1.0.0' }).matched, false);
      assert.equal(evaluateCondition({ any: [{ fact: 'device.state', eq: 'active' }, { fact: 'device.state', eq: 'enrolled' }] }, { 'device.state': 'enrolled' }).matched, true);
      assert.equal(evaluateCondition({ not: { fact: 'device.state', in: ['active', 'enrolled'] } }, { 'device.state': 'quarantined' }).matched, true);
    });

    it('compares prerelease and coerced versions as semver, not as strings', () => {
      assert.equal(evaluateCondition({ fact: 'device.firmwareVersion', semverLt: '2.10.0' }, { 'device.firmwareVersion': '2.9.1' }).matched, true);
      assert.equal(evaluateCondition({ fact: 'device.firmwareVersion', semverLt: '2.4.0' }, { 'device.firmwareVersion': '2.4.0-rc.1' }).matched, true);
      assert.equal(evaluateCondition({ fact: 'device.firmwareVersion', semverGte: '2.4.0' }, { 'device.firmwareVersion': 'v2.4' }).matched, true);
      // A version that does not parse is never "new enough" nor "too old": the test fails.
      assert.equal(evaluateCondition({ fact: 'device.firmwareVersion', semverLt: '2.4.0' }, { 'device.firmwareVersion': 'banana' }).matched, false);
    });

    it('tests addresses against CIDR blocks, IPv4-mapped IPv6 included', () => {
      const c: Condition = { fact: 'connection.remoteAddress', notInCidr: ['10.20.0.0/16', 'fd00::/8'] };
      assert.equal(evaluateCondition(c, { 'connection.remoteAddress': '10.20.3.4' }).matched, false);
      assert.equal(evaluateCondition(c, { 'connection.remoteAddress': '::ffff:10.20.3.4' }).matched, false);
      assert.equal(evaluateCondition(c, { 'connection.remoteAddress': 'fd00::1' }).matched, false);
      assert.equal(evaluateCondition(c, { 'connection.remoteAddress': '192.168.1.9' }).matched, true);
      assert.equal(evaluateCondition(c, { 'connection.remoteAddress': 'not-an-ip' }).matched, false);
    });

    it('fails every test on an absent fact except exists: false', () => {
      assert.equal(evaluateCondition({ fact: 'cert.daysToExpiry', lt: 30 }, {}).matched, false);
      assert.equal(evaluateCondition({ fact: 'cert.daysToExpiry', ne: 30 }, {}).matched, false);
      assert.equal(evaluateCondition({ fact: 'cert.daysToExpiry', exists: false }, {}).matched, true);
      assert.equal(evaluateCondition({ fact: 'vulns.kevCount', gt: 0 }, { 'vulns.kevCount': 2 }).matched, true);
    });
  });

  describe('when validating', () => {
    it('accepts a valid condition', () => assert.deepEqual(conditionProblems(pumpOld, 'when'), []));
    it('names an unknown fact', () => assert.match(conditionProblems({ fact: 'device.colour', eq: 'red' }, 'when')[0] ?? '', /unknown fact/));
    it('refuses an operator that does not fit the fact type', () => {
      assert.match(conditionProblems({ fact: 'device.model', semverLt: '1.0.0' }, 'w')[0] ?? '', /does not apply/);
      assert.match(conditionProblems({ fact: 'vulns.kevCount', inCidr: '10.0.0.0/8' }, 'w')[0] ?? '', /does not apply/);
    });
    it('refuses bad operands: a non-version, a bad CIDR, a string for a number', () => {
      assert.equal(conditionProblems({ fact: 'device.firmwareVersion', semverLt: 'two' }, 'w').length, 1);
      assert.equal(conditionProblems({ fact: 'connection.remoteAddress', inCidr: ['10.0.0.0/33'] }, 'w').length, 1);
      assert.equal(conditionProblems({ fact: 'cert.daysToExpiry', lt: '30' as unknown as number }, 'w').length, 1);
    });
    it('finds problems deep inside all/any/not with their path', () => {
      const p = conditionProblems({ all: [{ fact: 'device.model', eq: 'X' }, { not: { any: [{ fact: 'nope', eq: 1 }] } }] }, 'when');
      assert.deepEqual(p, ['when.all[1].not.any[0]: unknown fact "nope"']);
    });
  });
});
