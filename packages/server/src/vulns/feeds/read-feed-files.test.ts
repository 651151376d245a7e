import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { zipSync } from 'fflate';
import { VulnError } from '../errors.ts';
import { fixturePath } from '../fixtures/load-fixture.ts';
import { readFeedPaths } from './read-feed-files.ts';

describe('readFeedPaths', () => {
  const dir = mkdtempSync(join(tmpdir(), 'medtrust-feed-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a directory of real OSV and NVD records with bad records mixed in, counting each reason', () => {
    mkdirSync(join(dir, 'mixed'));
    for (const f of ['osv/CVE-2016-2105.json', 'osv/CVE-2012-6702.json', 'oss-fuzz/OSV-2017-1.json', 'nvd/CVE-2014-0160.json', 'nvd/CVE-2025-0725.json']) copyFileSync(fixturePath(f), join(dir, 'mixed', f.replace('/', '-')));
    writeFileSync(join(dir, 'mixed', 'truncated.json'), '{"id": "OSV-X", "modified": ');
    const bad = JSON.parse(readFileSync(fixturePath('osv/CVE-2015-8325.json'), 'utf8'));
    bad.affected[0].ranges[0].type = 'NOT_A_TYPE';
    writeFileSync(join(dir, 'mixed', 'bad-range.json'), JSON.stringify(bad));
    writeFileSync(join(dir, 'mixed', 'no-modified.json'), JSON.stringify({ id: 'OSV-2099-1', affected: [] }));
    writeFileSync(join(dir, 'mixed', 'notes.txt'), 'not a feed');
    const b = readFeedPaths([join(dir, 'mixed')]);
    const ok = b.advisories.filter((a) => a.ok);
    assert.equal(ok.length, 5);
    const refused = [...b.advisories.filter((a) => !a.ok), ...b.rejected];
    assert.equal(refused.length, 3);
    assert.deepEqual(b.ignoredFiles.map((f) => f.split('/').pop()), ['notes.txt']);
  });

  it('reads an NVD API 2.0 response, a KEV catalog, EPSS CSV and a zip dump', () => {
    const zip = zipSync({ 'CVE-2016-2105.json': readFileSync(fixturePath('osv/CVE-2016-2105.json')), 'OSV-2017-1.json': readFileSync(fixturePath('oss-fuzz/OSV-2017-1.json')), 'README': new TextEncoder().encode('x') });
    writeFileSync(join(dir, 'dump.zip'), zip);
    const b = readFeedPaths([fixturePath('nvd-api/api-response-subset.json'), fixturePath('kev/kev-subset.json'), fixturePath('epss/epss_scores-excerpt.csv'), join(dir, 'dump.zip')]);
    assert.equal(b.advisories.filter((a) => a.ok).length, 5);
    assert.deepEqual(b.kev.map((k) => k.cveId).sort(), ['CVE-2014-0160', 'CVE-2025-48384']);
    assert.equal(b.epss.length, 46);
    assert.equal(b.epss.find((e) => e.cveId === 'CVE-2014-0160')?.epss, 0.99999);
    assert.equal(b.epss[0]?.scoreDate, '2026-09-29T12:00:22Z');
    assert.equal(b.ignoredFiles.length, 1);
    assert.equal(b.rejected.length, 0);
  });

  it('counts a corrupt zip as rejected and refuses a missing path with FEED_UNREADABLE', () => {
    writeFileSync(join(dir, 'broken.zip'), Buffer.from('PK\u0003\u0004garbage'));
    assert.equal(readFeedPaths([join(dir, 'broken.zip')]).rejected.length, 1);
    assert.throws(() => readFeedPaths([join(dir, 'missing.json')]), (e) => e instanceof VulnError && e.code === 'FEED_UNREADABLE');
  });
});
