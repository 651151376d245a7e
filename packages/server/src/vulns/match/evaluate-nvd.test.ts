import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseNvdItem } from '../feeds/parse-nvd.ts';
import { fixtureJson } from '../fixtures/load-fixture.ts';
import type { Advisory } from './advisory.ts';
import { AdvisoryIndex, matchFirmware, toMatchable } from './firmware-matcher.ts';

function nvd(id: string): Advisory {
  const r = parseNvdItem(fixtureJson(`nvd/${id}.json`));
  assert.ok(r.ok, id);
  return r.advisory;
}

let n = 0;
const comp = (name: string, version: string | null, cpe: string | null, purl: string | null = null) => toMatchable({ id: `c${++n}-${name}`, name, version, purl, cpe });

function run(advisories: Advisory[], components: ReturnType<typeof comp>[]) {
  const index = new AdvisoryIndex();
  for (const a of advisories) index.add(a);
  return matchFirmware(components, (k) => index.lookup(k));
}

describe('NVD CPE configurations (real records)', () => {
  it('CVE-2014-0160: OpenSSL 1.0.1 up to (excluding) 1.0.1g, letter versions ordered', () => {
    const a = nvd('CVE-2014-0160');
    const hit = run([a], [comp('openssl', '1.0.1f', 'cpe:2.3:a:openssl:openssl:1.0.1f:*:*:*:*:*:*:*')]);
    assert.equal(hit.length, 1);
    assert.equal(hit[0]?.status, 'affected');
    assert.equal(hit[0]?.vulnId, 'CVE-2014-0160');
    assert.equal(hit[0]?.fixedVersion, '1.0.1g');
    assert.deepEqual(run([a], [comp('openssl', '1.0.1g', 'cpe:2.3:a:openssl:openssl:1.0.1g:*:*:*:*:*:*:*')]), []);
    assert.deepEqual(run([a], [comp('openssl', '1.0.0z', 'cpe:2.3:a:openssl:openssl:1.0.0z:*:*:*:*:*:*:*')]), []);
  });

  it('CVE-2014-0160: a CPE without a version is unknown, not silently clean', () => {
    const hit = run([nvd('CVE-2014-0160')], [comp('openssl', null, 'cpe:2.3:a:openssl:openssl:*:*:*:*:*:*:*:*')]);
    assert.equal(hit[0]?.status, 'unknown');
  });

  describe('when the configuration is AND (CVE-2020-13595: esp-idf 4.0.0 to 4.2 inclusive, running on an ESP32)', () => {
    const a = nvd('CVE-2020-13595');
    const idf = (v: string) => comp('esp-idf', v, `cpe:2.3:a:espressif:esp-idf:${v}:*:*:*:*:*:*:*`);
    const esp32 = () => comp('ESP32', null, 'cpe:2.3:h:espressif:esp32:-:*:*:*:*:*:*:*');
    it('is affected only with the hardware in the firmware', () => {
      const withHw = run([a], [idf('4.1'), esp32()]);
      assert.equal(withHw.length, 1);
      assert.equal(withHw[0]?.status, 'affected');
      assert.match(withHw[0]?.reason ?? '', /AND configuration/);
      assert.deepEqual(run([a], [idf('4.1')]), []);
      assert.equal(run([a], [idf('4.2'), esp32()])[0]?.status, 'affected');
      assert.deepEqual(run([a], [idf('4.2.1'), esp32()]), []);
      assert.deepEqual(run([a], [idf('3.3'), esp32()]), []);
    });
    it('never marks the non-vulnerable hardware itself', () => {
      const hits = run([a], [idf('4.1'), esp32()]);
      assert.ok(hits.every((h) => h.componentId.includes('esp-idf')));
    });
  });

  it('CVE-2017-9078: an OR configuration still matches dropbear alone; the NetApp AND one needs its hardware', () => {
    const a = nvd('CVE-2017-9078');
    assert.equal(run([a], [comp('dropbear', '2016.74', 'cpe:2.3:a:dropbear_ssh_project:dropbear_ssh:2016.74:*:*:*:*:*:*:*')])[0]?.status, 'affected');
    assert.deepEqual(run([a], [comp('h410c fw', '-', 'cpe:2.3:o:netapp:h410c_firmware:-:*:*:*:*:*:*:*')]), []);
    const both = run([a], [comp('h410c fw', '-', 'cpe:2.3:o:netapp:h410c_firmware:-:*:*:*:*:*:*:*'), comp('h410c', null, 'cpe:2.3:h:netapp:h410c:-:*:*:*:*:*:*:*')]);
    assert.equal(both[0]?.status, 'affected');
  });

  it('CVE-2025-0725 has no configurations: stored with no CPE keys, matches nothing by itself', () => {
    const a = nvd('CVE-2025-0725');
    assert.deepEqual(a.targets, []);
    assert.deepEqual(run([a], [comp('curl', '8.11.1', 'cpe:2.3:a:haxx:curl:8.11.1:*:*:*:*:*:*:*')]), []);
  });

  it('CVE-2018-16525: the medical SBOM names FreeRTOS with part "o", NVD with "a": reported unknown for review', () => {
    const hits = run([nvd('CVE-2018-16525')], [comp('FreeRTOS 10.0.1', null, 'cpe:2.3:o:amazon:freertos:10.0.1:*:*:*:-:*:*:*', 'pkg:github/freertos/freertos')]);
    assert.equal(hits.length, 1);
    assert.equal(hits[0]?.status, 'unknown');
  });
});
