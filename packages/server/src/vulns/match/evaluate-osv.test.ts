import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fixtureJson } from '../fixtures/load-fixture.ts';
import { parseOsvRecord } from '../feeds/parse-osv.ts';
import type { AdvisoryTarget, OsvRange } from './advisory.ts';
import { evaluateOsvTarget, inRange } from './evaluate-osv.ts';
import { compareSemver } from '../version/index.ts';

const semverRange = (...events: OsvRange['events']): OsvRange => ({ type: 'SEMVER', events });
const target = (ecosystem: string, ranges: OsvRange[], versions: string[] = []): Extract<AdvisoryTarget, { kind: 'osv-package' }> => ({ kind: 'osv-package', key: 'k', ecosystem, name: 'p', ranges, versions });

describe('inRange (OSV schema evaluation)', () => {
  it('handles the schema examples: introduced/fixed, several introduced, last_affected, limit', () => {
    // OSV schema "Examples": introduced 1.0.0, fixed 1.0.2
    const r1 = semverRange({ introduced: '1.0.0' }, { fixed: '1.0.2' });
    assert.equal(inRange('0.9.0', r1, compareSemver), false);
    assert.equal(inRange('1.0.0', r1, compareSemver), true);
    assert.equal(inRange('1.0.1', r1, compareSemver), true);
    assert.equal(inRange('1.0.2', r1, compareSemver), false);
    // Two affected intervals in one range, events listed out of order on purpose.
    const r2 = semverRange({ introduced: '2.0.0' }, { fixed: '1.0.2' }, { introduced: '1.0.0' }, { fixed: '2.0.1' });
    assert.deepEqual(['0.1.0', '1.0.1', '1.5.0', '2.0.0', '2.0.1'].map((v) => inRange(v, r2, compareSemver)), [false, true, false, true, false]);
    // introduced 0 + last_affected: everything up to and including 3.1.4.
    const r3 = semverRange({ introduced: '0' }, { last_affected: '3.1.4' });
    assert.deepEqual(['0.0.1', '3.1.4', '3.1.5'].map((v) => inRange(v, r3, compareSemver)), [true, true, false]);
    // limit bounds the range from above.
    const r4 = semverRange({ introduced: '0' }, { limit: '2.0.0' });
    assert.deepEqual(['1.9.9', '2.0.0', '3.0.0'].map((v) => inRange(v, r4, compareSemver)), [true, false, false]);
  });
});

describe('evaluateOsvTarget', () => {
  it('uses the versions list, then ranges, and reports the fix', () => {
    const t = target('npm', [semverRange({ introduced: '1.0.0' }, { fixed: '1.2.0' })], ['0.5.0']);
    assert.equal(evaluateOsvTarget(t, '0.5.0').status, 'yes');
    const v = evaluateOsvTarget(t, '1.1.0');
    assert.equal(v.status, 'yes');
    assert.equal(v.fixed, '1.2.0');
    assert.equal(evaluateOsvTarget(t, '1.2.0').status, 'no');
    assert.equal(evaluateOsvTarget(t, null).status, 'unknown');
  });

  describe('when the record is the real osv.dev CVE-2016-2105 (Alpine and Debian openssl)', () => {
    const r = parseOsvRecord(fixtureJson('osv/CVE-2016-2105.json'));
    assert.ok(r.ok);
    const alpine = r.advisory.targets.find((t) => t.kind === 'osv-package' && t.ecosystem === 'Alpine:v3.3');
    const debian = r.advisory.targets.find((t) => t.kind === 'osv-package' && t.ecosystem.startsWith('Debian'));
    const git = r.advisory.targets.find((t) => t.kind === 'osv-package' && t.ecosystem === 'GIT');
    it('orders apk versions with letters (fixed 1.0.2h-r0)', () => {
      assert.ok(alpine?.kind === 'osv-package');
      assert.equal(alpine.key, 'purl:apk/alpine/openssl');
      assert.equal(evaluateOsvTarget(alpine, '1.0.1f-r0').status, 'yes');
      assert.equal(evaluateOsvTarget(alpine, '1.0.2g-r9').status, 'yes');
      assert.equal(evaluateOsvTarget(alpine, '1.0.2h-r0').status, 'no');
      assert.equal(evaluateOsvTarget(alpine, '1.0.2k-r0').status, 'no');
    });
    it('orders Debian versions with dpkg rules', () => {
      assert.ok(debian?.kind === 'osv-package');
      assert.equal(debian.key, 'purl:deb/debian/openssl');
      const fixed = evaluateOsvTarget(debian, '0.9.8c-1').fixed ?? '';
      assert.equal(evaluateOsvTarget(debian, '0.9.8c-1').status, 'yes');
      assert.ok(fixed !== '', 'a fixed version is reported');
      assert.equal(evaluateOsvTarget(debian, fixed).status, 'no');
    });
    it('reports a repository-only GIT range as unknown, never as affected or not', () => {
      assert.ok(git?.kind === 'osv-package');
      assert.equal(git.key, 'name:node');
      // A tag in the versions list decides; anything else needs the repository.
      assert.equal(evaluateOsvTarget(git, 'v4.2.0').status, 'yes');
      assert.equal(evaluateOsvTarget(git, '4.9.9').status, 'unknown');
    });
  });

  it('reports an OSS-Fuzz GIT range as unknown', () => {
    const r = parseOsvRecord(fixtureJson('oss-fuzz/OSV-2017-1.json'));
    assert.ok(r.ok);
    const t = r.advisory.targets[0];
    assert.ok(t?.kind === 'osv-package');
    assert.equal(t.key, 'name:curl');
    const v = evaluateOsvTarget(t, '7.55.0');
    assert.equal(v.status, 'unknown');
    assert.match(v.reason, /GIT/);
  });
});
