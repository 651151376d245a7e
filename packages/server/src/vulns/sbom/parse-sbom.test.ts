import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as CDX from '@cyclonedx/cyclonedx-library';
import { Ajv } from 'ajv';
import { VulnError } from '../errors.ts';
import { fixtureText } from '../fixtures/load-fixture.ts';
import { exportCycloneDx16, parseSbom } from './index.ts';

const ajv = new Ajv({ allErrors: true, strict: false });

async function rejects(text: string, code: string): Promise<VulnError> {
  try {
    await parseSbom(text, ajv);
  } catch (e) {
    assert.ok(e instanceof VulnError);
    assert.equal(e.code, code);
    return e;
  }
  assert.fail(`expected ${code}`);
}

describe('parseSbom', () => {
  describe('when the SBOM is the real anonymised medical device CycloneDX 1.4', () => {
    it('keeps CPE-only and pkg:generic components, FDA support fields and CPE versions', async () => {
      const doc = await parseSbom(fixtureText('sbom/medical-device-case-study_extended.cdx.json'), ajv);
      assert.equal(doc.format, 'cyclonedx');
      assert.equal(doc.specVersion, '1.4');
      assert.equal(doc.components.length, 65);
      const wolf = doc.components.find((c) => c.name.startsWith('WolfSSL'));
      assert.equal(wolf?.version, '4.8.1', 'version taken from the CPE when the component has none');
      assert.equal(wolf?.cpe, 'cpe:2.3:a:wolfssl:wolfssl:4.8.1:*:*:*:*:*:*:*');
      assert.equal(wolf?.supportLevel, 'Actively maintained');
      assert.equal(wolf?.endOfSupport, 'Open source');
      assert.equal(wolf?.endOfSupportAtMs, null);
      const generic = doc.components.find((c) => c.purl?.startsWith('pkg:generic/unifi_network_application'));
      assert.equal(generic?.version, '8.3.32');
      assert.ok(doc.components.some((c) => c.supportLevel === 'Deprecated'));
    });
  });

  it('reads the real Red Hat openssl CycloneDX 1.6 and SPDX 2.3 and the UBI 9 SPDX', async () => {
    const cdx = await parseSbom(fixtureText('sbom/redhat-openssl-3.0.7-18.el9_2.cdx.json'), ajv);
    assert.equal(cdx.specVersion, '1.6');
    assert.equal(cdx.components.length, 36);
    assert.ok(cdx.components.every((c) => c.purl?.startsWith('pkg:rpm/redhat/')));
    const spdx = await parseSbom(fixtureText('sbom/redhat-openssl-3.0.7-18.el9_2.spdx.json'), ajv);
    assert.equal(spdx.format, 'spdx');
    const upstream = spdx.components.find((c) => c.ref === 'SPDXRef-Source0-origin');
    assert.equal(upstream?.version, '3.0.7');
    assert.match(upstream?.purl ?? '', /^pkg:generic\/openssl@3\.0\.7/);
    assert.equal(spdx.components.find((c) => c.ref === 'SPDXRef-SRPM')?.supplier, 'Red Hat');
    const ubi = await parseSbom(fixtureText('sbom/redhat-ubi9-micro-container-9.4-6_amd64.spdx.json'), ajv);
    assert.equal(ubi.components.length, 22);
  });

  describe('when the SBOM is broken', () => {
    it('refuses CycloneDX that fails the schema, with the validator reasons', async () => {
      const doc = JSON.parse(fixtureText('sbom/medical-device-case-study_extended.cdx.json'));
      delete doc.components[3].type;
      doc.components[5].purl = 42;
      const e = await rejects(JSON.stringify(doc), 'SBOM_INVALID');
      const reasons = e.details?.reasons as string[];
      assert.ok(reasons.some((r) => r.startsWith('/components/3')), reasons.join('; '));
    });
    it('refuses SPDX missing required fields', async () => {
      const doc = JSON.parse(fixtureText('sbom/redhat-openssl-3.0.7-18.el9_2.spdx.json'));
      delete doc.creationInfo;
      delete doc.packages[1].name;
      const e = await rejects(JSON.stringify(doc), 'SBOM_INVALID');
      assert.ok((e.details?.reasons as string[]).length >= 2);
    });
    it('refuses non-JSON, unknown formats and unsupported versions', async () => {
      await rejects('{"bomFormat": "CycloneDX", ', 'SBOM_INVALID');
      await rejects('{"hello": "world"}', 'SBOM_FORMAT_UNKNOWN');
      await rejects('{"bomFormat": "CycloneDX", "specVersion": "1.2"}', 'SBOM_FORMAT_UNKNOWN');
      await rejects('{"spdxVersion": "SPDX-2.2"}', 'SBOM_FORMAT_UNKNOWN');
    });
  });

  it('exports CycloneDX 1.6 that the CycloneDX validator accepts and that reads back the same', async () => {
    const doc = await parseSbom(fixtureText('sbom/medical-device-case-study_extended.cdx.json'), ajv);
    const out = exportCycloneDx16({ model: 'PUMP-1', firmwareVersion: '2.0.0', components: doc.components, timestamp: new Date(0) });
    assert.equal(await new CDX.Validation.JsonStrictValidator(CDX.Spec.Version.v1dot6).validate(out), null);
    const back = await parseSbom(out, ajv);
    assert.equal(back.components.length, doc.components.length);
    const wolf = back.components.find((c) => c.name.startsWith('WolfSSL'));
    assert.equal(wolf?.supportLevel, 'Actively maintained');
    assert.equal(wolf?.cpe, 'cpe:2.3:a:wolfssl:wolfssl:4.8.1:*:*:*:*:*:*:*');
  });
});
