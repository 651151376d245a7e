import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareVersions, versionScheme } from './version.ts';

describe('versionScheme', () => {
  it('accepts strict semver and decimal counters', () => {
    assert.equal(versionScheme('1.2.3'), 'semver');
    assert.equal(versionScheme('1.2.3-rc.1'), 'semver');
    assert.equal(versionScheme('0'), 'counter');
    assert.equal(versionScheme('42'), 'counter');
  });

  describe('when the version is malformed', () => {
    for (const v of ['v1.2.3', '1.2', '1.2.3+build.5', '01', '-1', '1e3', '', ' 1.2.3', '1.2.3 ', '9999999999999999']) {
      it(`refuses "${v}"`, () => assert.equal(versionScheme(v), undefined));
    }
  });
});

describe('compareVersions', () => {
  it('orders semver by precedence, prereleases below their release', () => {
    assert.ok(compareVersions('1.10.0', '1.9.9', 'semver') > 0);
    assert.ok(compareVersions('2.0.0-rc.1', '2.0.0', 'semver') < 0);
    assert.equal(compareVersions('1.0.0', '1.0.0', 'semver'), 0);
  });
  it('orders counters numerically, not as strings', () => {
    assert.ok(compareVersions('10', '9', 'counter') > 0);
    assert.ok(compareVersions('9', '10', 'counter') < 0);
  });
});
